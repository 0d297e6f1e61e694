#!/usr/bin/env bash
# deps.sh COMMAND:PACKAGE ... — make sure each command exists (an empty
# COMMAND, ":PACKAGE", checks that the Debian package itself is installed: a
# library or a Python module has no command). Missing ones are installed from
# Debian's packages when running as root; otherwise the exact apt-get line is
# printed and the script fails.
set -u
missing=()
for pair in "$@"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if [ -z "$cmd" ]; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing ${missing[*]} (Debian packages)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
    { echo "deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
  exit 0
fi
echo "deps: missing ${missing[*]}; install them with:" >&2
echo "  sudo apt-get install -y ${missing[*]}" >&2
exit 1
