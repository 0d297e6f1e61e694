#!/usr/bin/env bash
# peers/origin.sh FILE — where a peer's interpreter, compiler or library came
# from, for the `runtime` line of its about.txt (and so for meta.txt and
# docs/peers.md): "FILE, Debian's PKG VERSION" when a package of Debian's
# maintainers holds it; "FILE, package PKG VERSION from MAINTAINER (not
# Debian's)" when it is a third party's (NodeSource's nodejs, for one);
# "FILE, no package" otherwise (a hand install, rustup's ~/.cargo/bin).
# `peers/origin.sh --module FILE` prints only "Debian's PKG VERSION" (for a
# library beside its interpreter).
set -u
short=0
[ "${1:-}" = --module ] && { short=1; shift; }
f=$(readlink -f "$1" 2>/dev/null || echo "$1")
pkg=$(dpkg -S "$f" 2>/dev/null | head -n 1 | cut -d: -f1)
[ -n "$pkg" ] || pkg=$(dpkg -S "$1" 2>/dev/null | head -n 1 | cut -d: -f1)
if [ -z "$pkg" ]; then echo "$1, no package"; exit 0; fi
name=$1
[ "$short" = 1 ] && name=""
ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null | head -n 1)
# Debian's: its maintainer is a Debian address (the installed version may be
# an older security update, gone from the archive's index by now)
who=$(dpkg-query -W -f='${Maintainer}' "$pkg" 2>/dev/null | head -n 1)
case "$who" in
  *debian.org\>*|*debian.net\>*) echo "${name:+$name, }Debian's $pkg $ver" ;;
  *) echo "${name:+$name, }package $pkg $ver from ${who%% <*} (not Debian's)" ;;
esac
