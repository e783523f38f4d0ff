#!/bin/sh
echo "ran by $0 with $# args"
