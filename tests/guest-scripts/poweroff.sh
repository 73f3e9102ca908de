# poweroff.sh - L2 guest script: do nothing; l2-init powers the guest off afterwards.
echo L2-POWEROFF
