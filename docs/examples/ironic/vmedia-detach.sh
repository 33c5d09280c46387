# Eject the virtual CD.
curl -sS --fail-with-body -X DELETE -H 'X-OpenStack-Ironic-API-Version: 1.93' \
  "$OS_ENDPOINT/v1/nodes/$NODE/vmedia?device_types=cdrom"
