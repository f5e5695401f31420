#!/bin/sh
# Turns a program's man-page style --help (NAME, SYNOPSIS, ... headings at
# column 0, bodies indented) into a gzipped man page, so `man PROGRAM` and
# `PROGRAM --help` can never disagree.
#
#   help_to_man.sh PROGRAM NAME SECTION VERSION OUTPUT.gz
#
# Bodies keep their line layout (.nf), since option tables and examples are
# laid out by hand, less their common indentation (man adds its own); NAME
# stays filled text so whatis/apropos can index it.
# A --help that does not start with NAME becomes the DESCRIPTION whole.
set -eu
program=$1 name=$2 section=$3 version=$4 output=$5

help=$("$program" --help)
printf '%s\n' "$help" | awk -v name="$name" -v section="$section" -v version="$version" '
  function escape(line) {
    gsub(/\\/, "\\e", line)
    if (line ~ /^[.\047]/) line = "\\&" line
    return line
  }
  # Prints the held section body without its common indentation (man
  # indents bodies itself) and without leading or trailing blank lines.
  function flush(   i, first, last, indent, n) {
    first = 1; last = count
    while (first <= last && body[first] ~ /^ *$/) first++
    while (last >= first && body[last] ~ /^ *$/) last--
    indent = -1
    for (i = first; i <= last; i++) {
      if (body[i] ~ /^ *$/) continue
      match(body[i], /^ */)
      if (indent < 0 || RLENGTH < indent) indent = RLENGTH
    }
    if (first <= last && heading != "NAME") print ".nf"
    for (i = first; i <= last; i++) {
      line = substr(body[i], indent + 1)
      if (heading == "NAME") {
        line = escape(line)
        sub(/ - /, " \\- ", line)
      } else {
        line = escape(line)
      }
      print line
    }
    if (first <= last && heading != "NAME") print ".fi"
    count = 0
  }
  BEGIN {
    printf ".TH \"%s\" \"%s\" \"\" \"sublink %s\" \"sublink\"\n", toupper(name), section, version
  }
  NR == 1 && $0 != "NAME" {
    fallback = 1
    printf ".SH NAME\n%s \\- sublink %s\n.SH DESCRIPTION\n.nf\n", name, name
  }
  fallback { print escape($0); next }
  /^[A-Z][A-Z ]*$/ {
    flush()
    heading = $0
    printf ".SH \"%s\"\n", heading
    next
  }
  { body[++count] = $0 }
  END { if (fallback) print ".fi"; else flush() }
' | gzip -9n >"$output.tmp"
mv "$output.tmp" "$output"
