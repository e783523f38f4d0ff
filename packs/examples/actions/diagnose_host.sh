#!/bin/sh
# examples.diagnose_host: print a host's load, memory, disk usage and busiest
# processes. Arguments come as --name=value (the runner's kwarg_op).
# Exit status 0 when nothing is over the threshold, 1 otherwise.
set -u

disk_threshold=90
top=5
for arg in "$@"; do
	case "$arg" in
	--disk_threshold=*) disk_threshold=${arg#*=} ;;
	--top=*) top=${arg#*=} ;;
	esac
done

echo "== $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== load"
cat /proc/loadavg 2>/dev/null || uptime
echo "== memory"
free -m 2>/dev/null || vm_stat 2>/dev/null || true
echo "== disks over ${disk_threshold}%"
df -P | awk 'NR > 1' | while read -r fs blocks used avail pcent mount; do
	p=${pcent%\%}
	if [ "$p" -ge "$disk_threshold" ] 2>/dev/null; then
		echo "$mount $pcent ($fs)"
	fi
done
full=$(df -P | awk -v t="$disk_threshold" 'NR > 1 { sub("%", "", $5); if ($5 + 0 >= t) n++ } END { print n + 0 }')
echo "== top $top processes by CPU"
ps -eo pid,pcpu,pmem,comm --sort=-pcpu 2>/dev/null | head -n $((top + 1)) || ps aux | head -n $((top + 1))
[ "$full" -eq 0 ]
