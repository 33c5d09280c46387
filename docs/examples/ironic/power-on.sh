# Power the node on through Ironic and wait (at most 2 minutes) until Ironic reads it back as on.
baremetal node power on "$NODE"
for _ in $(seq 60); do
  [ "$(baremetal node show "$NODE" -f value -c power_state)" = "power on" ] && break
  sleep 2
done
baremetal node show "$NODE" -f value -c power_state
