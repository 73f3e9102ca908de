# blk.sh - L2: check /dev/vda (read-write, known content) and /dev/vdb (read-only) from the guest side.
echo "SIZE=$(cat /sys/block/vda/size) SERIAL=$(cat /sys/block/vda/serial 2>/dev/null) RO=$(cat /sys/block/vdb/ro)"
echo "MARKER=$(dd if=/dev/vda bs=16 count=1 2>/dev/null)"
echo GUEST-WROTE-THIS | dd of=/dev/vda bs=512 seek=1 conv=sync,fsync 2>/dev/null
echo "WRITE-RC=$?"
echo x | dd of=/dev/vdb bs=512 conv=sync,fsync 2>/dev/null
echo "RO-WRITE-RC=$?"
echo "VDB-MD5=$(md5sum </dev/vdb | cut -d' ' -f1)"
sync
