#!/bin/sh
# Regenerates buckets/promptfiles/holdmusic.wav (the layout of the tenant's
# bucket store: bucket "promptfiles", where /promptfile keeps prompt files):
# four seconds of a simple melody (sine tones with a short fade each), 8 kHz
# mono 16-bit PCM WAV, which the media server plays without resampling. A
# melody, not speech, so a test can tell it from the parties' voices.
# Needs: apt-get install -y sox
set -eu
cd "$(dirname "$0")/buckets/promptfiles"
command -v sox >/dev/null || { echo "make-holdmusic.sh: sox not found" >&2; exit 1; }
i=0
for f in 523.25 659.25 783.99 659.25 587.33 698.46 880.00 698.46; do
	sox -n -r 8000 -c 1 -b 16 -e signed-integer "note$i.tmp.wav" synth 0.5 sine "$f" fade q 0.02 0.5 0.05 vol 0.5
	i=$((i + 1))
done
sox note*.tmp.wav holdmusic.wav
rm -f note*.tmp.wav
