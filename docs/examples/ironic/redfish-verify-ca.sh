# Verify the agent's certificate instead of redfish_verify_ca=False: give Ironic a CA bundle holding the
# certificate that signed it. A self-signed agent certificate is its own CA: the operator's Secret <name>-bmc
# has it under the key tls.crt (a standalone agent keeps it in STATE_DIR/redfish-tls.crt).
baremetal node set "$NODE" --driver-info redfish_verify_ca="$CA_FILE"
# Reading the boot device is a synchronous Redfish call: it fails if the certificate does not verify.
baremetal node boot device show "$NODE" -f value -c boot_device
