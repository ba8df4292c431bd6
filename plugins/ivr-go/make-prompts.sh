#!/bin/sh
# Regenerates the IVR prompts into buckets/prompts/ivr/ (the layout of the
# tenant's bucket store: bucket "prompts", keys "ivr/<name>.wav"): espeak-ng speaks, sox converts to 8 kHz mono
# 16-bit PCM WAV (what the media server plays without resampling).
# Needs: apt-get install -y espeak-ng sox
set -eu
cd "$(dirname "$0")/buckets/prompts/ivr"
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "make.sh: $tool not found" >&2; exit 1; }
done
say() { # say NAME TEXT
	espeak-ng -v en-us -s 150 -w "$1.tmp.wav" "$2"
	sox "$1.tmp.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1.wav" norm -3
	rm -f "$1.tmp.wav"
}
say welcome "Thank you for calling. For sales, press 1. For support, press 2. To hear this menu again, press 0."
say invalid "Sorry, that is not a valid choice."
say sales "Thank you. A member of our sales team will call you back shortly. Goodbye."
say support "Thank you. Our support team is available on our website at any time. Goodbye."
say goodbye "We did not receive a choice. Goodbye."
