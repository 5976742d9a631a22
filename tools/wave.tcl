# GTKWave script for ./chio wave (tools/wave.sh): adds signals, zooms to a window, writes a PNG
# and quits. Run headless: xvfb-run -a gtkwave [--rcvar ...] -S tools/wave.tcl DUMP [SAVE.gtkw]
#
# Inputs come from the environment, because gtkwave -S passes no arguments to its script:
#   WAVE_PNG      output picture (required)
#   WAVE_FROM     window start in the dump's time unit (ps for chio traces); empty: start
#   WAVE_TO       window end; empty: end of the dump
#   WAVE_SIGNALS  comma-separated glob patterns over full signal names ("*doorbell*,*cqe.count");
#                 empty: keep what the .gtkw save file loaded, or all signals without one
#   WAVE_MAX      most signals added by patterns (a picture of thousands of rows is unreadable)

proc env_or {name default} {
    if {[info exists ::env($name)]} { return $::env($name) }
    return $default
}

set png [env_or WAVE_PNG ""]
if {$png eq ""} {
    puts stderr "wave.tcl: WAVE_PNG is not set"
    gtkwave::/File/Quit
}
set patterns [env_or WAVE_SIGNALS ""]
set max [env_or WAVE_MAX 64]

# Facility names carry the bit range ("host0.adapter0.cqe.count[31:0]"); patterns are matched
# against the name without it, so "*.cqe.count" works for vectors and scalars alike.
proc add_matching {patterns max} {
    set wanted {}
    set n [gtkwave::getNumFacs]
    foreach pat [split $patterns ","] {
        set pat [string trim $pat]
        if {$pat eq ""} continue
        for {set i 0} {$i < $n} {incr i} {
            set fac [gtkwave::getFacName $i]
            regsub {\[[0-9]+:[0-9]+\]$} $fac "" bare
            if {[string match $pat $bare] && [lsearch -exact $wanted $fac] < 0} {
                lappend wanted $fac
            }
        }
    }
    if {[llength $wanted] == 0} {
        puts stderr "wave.tcl: no signal matches '$patterns'"
        return 0
    }
    set wanted [lrange $wanted 0 [expr {$max - 1}]]
    gtkwave::addSignalsFromList $wanted
    return [llength $wanted]
}

if {$patterns ne ""} {
    # Below what a save file already placed; nothing at all to show is an error.
    if {[add_matching $patterns $max] == 0 && [gtkwave::getVisibleNumTraces] == 0} {
        gtkwave::/File/Quit
    }
} elseif {[gtkwave::getVisibleNumTraces] == 0} {
    add_matching "*" $max
}

set from [env_or WAVE_FROM ""]
set to [env_or WAVE_TO ""]
if {$from eq "" && $to eq ""} {
    gtkwave::/Time/Zoom/Zoom_Full
} else {
    if {$from eq ""} { set from [gtkwave::getMinTime] }
    if {$to eq ""} { set to [gtkwave::getMaxTime] }
    gtkwave::setZoomRangeTimes $from $to
    gtkwave::setMarker $from
}
# Show the first rows: adding signals scrolls the wave pane down to them.
catch {gtkwave::setTraceScrollbarRowValue 0}
gtkwave::/Edit/UnHighlight_All
gtkwave::/File/Grab_To_File $png
gtkwave::/File/Quit
