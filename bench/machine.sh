# Sourced by the bench scripts: sets cpu (the CPU model), cpu_slug (that model reduced to a
# file-name slug), cores and day, which name the result files.
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
cpu=${cpu:-$(uname -m)}
cpu_slug=$(printf '%s' "$cpu" | tr '[:upper:]' '[:lower:]' |
  sed -e 's/([^)]*)//g' -e 's/ cpu / /g' -e 's/ processor//g' -e 's/[^a-z0-9]\+/-/g' -e 's/^-//' -e 's/-$//' |
  cut -c1-40 | sed 's/-$//')
cores=$(nproc)
day=$(date +%F)
