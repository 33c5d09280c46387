"""Drives a Redfish service with sushy (the library Ironic uses) and prints one JSON object per command.

usage: python sushy_driver.py URL USER PASSWORD AUTH COMMAND [ARG]
  AUTH: basic | session
  COMMAND: state | on | off | bootonce-pxe | insert URL | eject
"""
import json
import sys

import sushy
import urllib3

urllib3.disable_warnings()


def main(argv):
    url, user, password, auth_kind, command, *rest = argv
    auth = sushy.auth.BasicAuth(user, password) if auth_kind == "basic" else sushy.auth.SessionAuth(user, password)
    root = sushy.Sushy(url + "/redfish/v1", auth=auth, verify=False)
    system = root.get_system(root.get_system_collection().get_members()[0].path)
    manager = root.get_manager(root.get_manager_collection().get_members()[0].path)
    cd = manager.virtual_media.get_member(manager.virtual_media.members_identities[0])
    if command == "on":
        system.reset_system(sushy.RESET_ON)
    elif command == "off":
        system.reset_system(sushy.RESET_FORCE_OFF)
    elif command == "bootonce-pxe":
        system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_PXE, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
    elif command == "insert":
        cd.insert_media(rest[0], inserted=True, write_protected=True)
    elif command == "eject":
        cd.eject_media()
    elif command != "state":
        raise SystemExit("unknown command " + command)
    system.refresh()
    cd.refresh()
    print(json.dumps({
        "power": str(system.power_state.value if hasattr(system.power_state, "value") else system.power_state),
        "bootTarget": str(system.boot.target.value if hasattr(system.boot.target, "value") else system.boot.target),
        "bootEnabled": str(system.boot.enabled.value if hasattr(system.boot.enabled, "value") else system.boot.enabled),
        "uuid": system.uuid,
        "cdImage": cd.image,
        "cdInserted": cd.inserted,
    }))
    if auth_kind == "session":
        auth.close()


if __name__ == "__main__":
    main(sys.argv[1:])
