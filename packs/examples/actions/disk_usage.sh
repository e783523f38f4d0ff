#!/bin/sh
# examples.disk_usage: print the usage (percent, digits only) of the
# filesystem that holds $1 (default /).
set -eu
path=${1:-/}
df -P "$path" | awk 'NR == 2 { sub("%", "", $5); print $5 }'
