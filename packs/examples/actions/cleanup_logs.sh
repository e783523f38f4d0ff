#!/bin/sh
# examples.cleanup_logs: delete rotated logs (*.log.N, *.gz) last modified
# more than DAYS days ago below DIR, and print what was deleted.
#
#   cleanup_logs.sh [--dry_run] DIR [DAYS]
#
# The runner passes named parameters first (--dry_run when true), then the
# positional ones (dir, older_than_days).
set -eu
dry_run=false
set -- "$@" --end-of-args
for arg in "$@"; do
	shift
	case "$arg" in
	--end-of-args) break ;;
	--dry_run | --dry_run=true | --dry_run=1) dry_run=true ;;
	--dry_run=*) dry_run=false ;;
	--*) echo "cleanup_logs: unknown option $arg" >&2; exit 2 ;;
	*) set -- "$@" "$arg" ;;
	esac
done
dir=${1:?usage: cleanup_logs.sh [--dry_run] DIR [DAYS]}
days=${2:-7}
case "$days" in
'' | *[!0-9]*) echo "cleanup_logs: DAYS must be a number of days, got $days" >&2; exit 2 ;;
esac
if [ ! -d "$dir" ]; then
	echo "cleanup_logs: $dir is not a directory" >&2
	exit 2
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
find "$dir" -type f \( -name '*.log.[0-9]*' -o -name '*.gz' \) -mtime +"$days" | sort >"$list"
count=0
while IFS= read -r f; do
	if [ "$dry_run" = true ]; then
		echo "would delete $f"
	else
		rm -f -- "$f"
		echo "deleted $f"
	fi
	count=$((count + 1))
done <"$list"
echo "$count file(s)"
