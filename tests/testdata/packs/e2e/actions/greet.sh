#!/bin/sh
i=0
while [ "$i" -lt "$2" ]; do
  echo "hello $1 ($3)"
  i=$((i + 1))
done
echo "greeted $1" >&2
