#!/bin/sh
# Turns a program's man-page style --help (NAME, SYNOPSIS, ... headings at
# column 0, bodies indented) into a gzipped man page, so `man PROGRAM` and
# `PROGRAM --help` can never disagree.
#
#   help_to_man.sh PROGRAM NAME SECTION VERSION OUTPUT.gz
#
# Bodies keep their line layout (.nf), since option tables and examples are
# laid out by hand; NAME stays filled text so whatis/apropos can index it.
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
  # Blank lines are held back until text follows, so none ends a section.
  function close_body() { if (in_body) print ".fi"; in_body = 0; blanks = 0 }
  BEGIN {
    printf ".TH \"%s\" \"%s\" \"\" \"sublink %s\" \"sublink\"\n", toupper(name), section, version
  }
  NR == 1 && $0 != "NAME" {
    fallback = 1
    printf ".SH NAME\n%s \\- sublink %s\n.SH DESCRIPTION\n.nf\n", name, name
  }
  fallback { print escape($0); next }
  /^[A-Z][A-Z ]*$/ {
    close_body()
    heading = $0
    printf ".SH \"%s\"\n", heading
    next
  }
  heading == "NAME" {
    sub(/^ +/, "")
    if ($0 == "") next
    line = escape($0)
    sub(/ - /, " \\- ", line)
    print line
    next
  }
  /^ *$/ { if (in_body) blanks++; next }
  {
    if (!in_body) { print ".nf"; in_body = 1 }
    for (; blanks > 0; blanks--) print ""
    sub(/^    /, "")
    print escape($0)
  }
  END { if (fallback) print ".fi"; else close_body() }
' | gzip -9n >"$output.tmp"
mv "$output.tmp" "$output"
