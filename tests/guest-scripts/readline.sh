# readline.sh - L2: after boot, wait 3 s (so piped input surely arrived long before), then read one line from the
# console and run it: 'echo cmd | lkvm run ...' must reach a guest that listens late.
sleep 3
echo READLINE-LISTENING
read -r line
echo "READLINE-GOT [$line]"
eval "$line"
