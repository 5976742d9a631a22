#!/usr/bin/env bash
# Renders a window of a waveform (.fst or .vcd) to a PNG without a display: GTKWave under Xvfb,
# driven by tools/wave.tcl. Called by `./chio wave`; usable on its own.
#
#   tools/wave.sh FILE [--from T] [--to T] [--signals PATTERNS] [--height PX] -o OUT.png
#
# T is a time with a unit: 2500ns, 10us, 1.5ms, 300ps, 1s (a bare number is picoseconds, the
# unit of chio traces). PATTERNS is a comma-separated list of globs over full signal names
# without bit ranges, e.g. '*.doorbell.*,*.queue_engine.deq_*,*.cqe.count'.
# If FILE's save file (same name, .gtkw) exists, its groups and colours are used; --signals then
# keeps only the matching rows of it, or, when none match, adds the matching signals of the dump.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() {
    printf 'chio wave: %s\n' "$*" >&2
    exit 2
}

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Converts "10us" etc. to integer picoseconds; $1 names the option for the error message.
to_ps() {
    local opt="$1" value="$2"
    if [[ ! "$value" =~ ^([0-9]+(\.[0-9]+)?)(ps|ns|us|ms|s)?$ ]]; then
        die "option $opt: '$value' is not a time (want a number with unit ps, ns, us, ms or s, e.g. 10us)"
    fi
    local num="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[3]:-ps}" mult
    case "$unit" in
    ps) mult=1 ;;
    ns) mult=1000 ;;
    us) mult=1000000 ;;
    ms) mult=1000000000 ;;
    s) mult=1000000000000 ;;
    esac
    awk -v n="$num" -v m="$mult" 'BEGIN { printf "%.0f\n", n * m }'
}

file="" from="" to="" signals="" out="" height=1150
while [[ $# -gt 0 ]]; do
    case "$1" in
    -h | --help)
        usage
        exit 0
        ;;
    --from | --to | --signals | --height | -o)
        [[ $# -ge 2 ]] || die "option $1 needs a value"
        case "$1" in
        --from) from="$(to_ps --from "$2")" ;;
        --to) to="$(to_ps --to "$2")" ;;
        --signals) signals="$2" ;;
        --height)
            [[ "$2" =~ ^[0-9]+$ && "$2" -ge 200 && "$2" -le 4000 ]] ||
                die "option --height: '$2' is not a number of pixels in 200..4000"
            height="$2"
            ;;
        -o) out="$2" ;;
        esac
        shift 2
        ;;
    -*) die "unknown option '$1' (see ./chio wave --help)" ;;
    *)
        [[ -z "$file" ]] || die "unexpected argument '$1' (one FILE only)"
        file="$1"
        shift
        ;;
    esac
done
[[ -n "$file" ]] || die "missing FILE (a .fst or .vcd trace)"
[[ -f "$file" ]] || die "FILE: '$file' does not exist"
[[ -n "$out" ]] || die "missing -o OUT.png"
[[ "$out" == *.png ]] || die "option -o: '$out' does not end in .png"
[[ -d "$(dirname "$out")" ]] || die "option -o: directory of '$out' does not exist"
if [[ -n "$from" && -n "$to" && "$from" -ge "$to" ]]; then
    die "option --to: window end ${to}ps is not after --from ${from}ps"
fi
command -v xvfb-run >/dev/null || die "xvfb-run is not installed (Debian package xvfb)"
command -v gtkwave >/dev/null || die "gtkwave is not installed (Debian package gtkwave)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
save="${file%.*}.gtkw"
args=()
tcl_signals="$signals"
width=1800
if [[ -f "$save" ]]; then
    if [[ -n "$signals" ]] &&
        python3 "$HERE/gtkw_filter.py" "$save" "$signals" "$tmp/unmatched" >"$tmp/view.gtkw"; then
        # Keep the group rows and the signal rows (with their colour and format lines) whose
        # name matches; drop groups left empty. Patterns the save file does not cover (RTL
        # internals, say) are added from the dump by wave.tcl below the groups.
        tcl_signals="$(cat "$tmp/unmatched")"
        args=("$tmp/view.gtkw")
    else
        cp "$save" "$tmp/view.gtkw"
        [[ -n "$signals" ]] || tcl_signals=""
    fi
    if [[ -z "$tcl_signals" ]]; then
        args=("$tmp/view.gtkw")
    fi
    # The save file's window size wins over --rcvar; set it to the picture's.
    sed -i "s/^\[size\] .*/[size] $width $height/" "$tmp/view.gtkw"
fi

log="$tmp/gtkwave.log"
if ! WAVE_PNG="$(realpath -m "$out")" WAVE_FROM="$from" WAVE_TO="$to" WAVE_SIGNALS="$tcl_signals" \
    xvfb-run -a -s "-screen 0 $((width + 120))x$((height + 100))x24" \
    gtkwave --rcvar "initial_window_x $width" --rcvar "initial_window_y $height" \
    --rcvar 'hide_sst on' --rcvar 'splash_disable on' \
    -S "$HERE/wave.tcl" "$file" "${args[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    die "gtkwave failed on '$file' (log above)"
fi
if [[ ! -s "$out" ]]; then
    # The script's own complaint is the one line worth showing; otherwise the whole log.
    if grep -q "^wave.tcl:" "$log"; then
        die "option --signals: $(grep -m1 "^wave.tcl:" "$log" | sed 's/^wave.tcl: //')"
    fi
    cat "$log" >&2
    die "gtkwave wrote no picture to '$out'"
fi
printf '%s\n' "$out"
