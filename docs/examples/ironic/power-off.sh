# Power the node off (hard) through Ironic and wait (at most 2 minutes) until Ironic reads it back as off.
baremetal node power off "$NODE"
for _ in $(seq 60); do
  [ "$(baremetal node show "$NODE" -f value -c power_state)" = "power off" ] && break
  sleep 2
done
baremetal node show "$NODE" -f value -c power_state
