# 9p.sh - L2: mount the shares "share" (rw) and "rosh" (ro) and exercise them; the host checks the other side.
o=trans=virtio,version=9p2000.L,msize=524288
mkdir -p /mnt/s /mnt/r
mount -t 9p share /mnt/s -o $o && echo MOUNT-S-OK
mount -t 9p rosh /mnt/r -o $o && echo MOUNT-R-OK
echo "TAGS=$(cat /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag 2>/dev/null | tr '\0' ' ')"
# host -> guest
echo "FROM-HOST=$(cat /mnt/s/from-host)"
# guest -> host, plus a directory, a rename and a removal the host checks
echo "written by the guest" >/mnt/s/from-guest && echo GUEST-WRITE-OK
mkdir /mnt/s/gdir && echo inside >/mnt/s/gdir/f && mv /mnt/s/gdir/f /mnt/s/gdir/g && echo GUEST-MKDIR-RENAME-OK
rm /mnt/s/delete-me && echo GUEST-RM-OK
ls -la /mnt/s >/dev/null && echo GUEST-LS-OK
# the read-only share
echo "RO-READ=$(cat /mnt/r/ro-file)"
if echo x >/mnt/r/ro-new 2>/dev/null; then echo RO-CREATE-SUCCEEDED; else echo RO-CREATE-REFUSED; fi
if echo x >>/mnt/r/ro-file 2>/dev/null; then echo RO-APPEND-SUCCEEDED; else echo RO-APPEND-REFUSED; fi
if rm /mnt/r/ro-file 2>/dev/null; then echo RO-RM-SUCCEEDED; else echo RO-RM-REFUSED; fi
if mkdir /mnt/r/d 2>/dev/null; then echo RO-MKDIR-SUCCEEDED; else echo RO-MKDIR-REFUSED; fi
# symlinks the host planted, pointing outside the share: the guest resolves them in its own tree, finds nothing
echo "PLANTED-REL=$(cat /mnt/s/out-rel 2>&1 | head -c 80)"
echo "PLANTED-ABS=$(cat /mnt/s/out-abs 2>&1 | head -c 80)"
echo "PLANTED-DIR=$(cat /mnt/s/out-dir/secret 2>&1 | head -c 80)"
echo "PLANTED-LINK=$(readlink /mnt/s/out-rel)"
# symlinks the guest makes to the host's outside (host path given by the host in /mnt/s/outside-path)
out=$(cat /mnt/s/outside-path)
ln -s "$out/secret" /mnt/s/g-abs && ln -s ../outside/secret /mnt/s/g-rel && echo GUEST-SYMLINKS-MADE
echo "GUEST-ABS=$(cat /mnt/s/g-abs 2>&1 | head -c 80)"
echo "GUEST-REL=$(cat /mnt/s/g-rel 2>&1 | head -c 80)"
# '..' from the share's root and from below stays inside
echo "DOTDOT-IN=$(ls /mnt/s/gdir/.. | tr '\n' ' ' | head -c 300)"
echo "DOTDOT-UP=$(ls /mnt/s/.. /mnt/s/gdir/../.. | tr '\n' ' ' | head -c 300)"
echo "DOTDOT-SECRET=$(cat /mnt/s/../outside/secret /mnt/s/gdir/../../outside/secret 2>&1 | head -c 80)"
# the big file last (slow under nested emulation): checksum what the host wrote, copy it back through the share
t() { echo "T-$1=$(cut -d' ' -f1 /proc/uptime)"; }
t big-start
echo "BIG-MD5=$(md5sum </mnt/s/big | cut -d' ' -f1)"
t big-read
dd if=/mnt/s/big of=/mnt/s/big-copy bs=1M 2>/dev/null && sync && echo BIG-COPY-OK
t big-copied
umount /mnt/s && umount /mnt/r && echo UMOUNT-OK
