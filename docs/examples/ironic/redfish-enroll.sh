# Enroll a qemu-bmc BMC in Ironic with the redfish hardware type and the redfish-virtual-media boot interface.
# REDFISH: host[:port] of the agent's HTTPS Redfish service (the Service's cluster IP, port 443).
# redfish_verify_ca=False accepts the agent's self-signed certificate; give a CA bundle path instead to verify.
baremetal node create --name "$NODE" --driver redfish \
  --boot-interface redfish-virtual-media \
  --driver-info redfish_address="https://$REDFISH" \
  --driver-info redfish_system_id=/redfish/v1/Systems/1 \
  --driver-info redfish_username="$BMC_USER" \
  --driver-info redfish_password="$BMC_PASS" \
  --driver-info redfish_verify_ca=False
baremetal node manage --wait 120 "$NODE"
baremetal node show "$NODE" -f value -c provision_state -c power_state
