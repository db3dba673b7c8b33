#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given binaries load (ldd, then
# dpkg -S), one per line, sorted. The container's runtime stage installs exactly the list in
# runtime-packages.txt; the build stage and the deploy tests run this script to prove that list
# still covers what the binaries link. Sanitizer runtimes (an ASan build) are left out.
#   deploy/container/runtime-packages.sh build/bin/tern-broker build/bin/tern-gateway ...
set -euo pipefail
if (( $# == 0 )); then
  echo "usage: $0 BINARY..." >&2
  exit 2
fi

# Lines look like "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)"; the loader itself
# has no "=>" and belongs to libc6, which every Debian image has anyway.
libraries=()
for binary in "$@"; do
  listing=$(ldd "$binary")
  if grep -q "not found" <<< "$listing"; then
    echo "$binary: a library is missing on this machine:" >&2
    grep "not found" <<< "$listing" >&2
    exit 1
  fi
  while read -r library; do
    case "$(basename "$library")" in
      libasan.so* | libubsan.so* | liblsan.so* | libtsan.so*) continue ;;
    esac
    libraries+=("$library")
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<< "$listing")
done
mapfile -t libraries < <(printf '%s\n' "${libraries[@]}" | sort -u)

# One dpkg -S for all of them (it is slow to start). With merged /usr a file may be registered
# under /lib or /usr/lib, or only under the name a symbolic link points to: ask for every
# spelling at once and take whichever is known.
declare -A owner=()
spellings=()
for library in "${libraries[@]}"; do
  spellings+=("$library" "/usr${library}" "$(realpath "$library")")
done
while IFS= read -r line; do
  package="${line%%: *}"
  owner["${line#*: }"]="${package%%:*}"
done < <(dpkg -S "${spellings[@]}" 2> /dev/null || true)
packages=()
for library in "${libraries[@]}"; do
  found=""
  for candidate in "$library" "/usr${library}" "$(realpath "$library")"; do
    found="${owner[$candidate]:-}"
    [[ -n "$found" ]] && break
  done
  if [[ -z "$found" ]]; then
    echo "no Debian package owns $library" >&2
    exit 1
  fi
  packages+=("$found")
done
printf '%s\n' "${packages[@]}" | sort -u
