#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# GNU Lesser General Public License v2.1 or later (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: sdcompat_check_info
short_description: Report which boot entries cannot hand over safely to the root's systemd
description:
  - Runs C(sdcompat-check --json=short) and returns its report, the preflight of every boot entry's
    initramfs against the root's systemd (schema in C(sdcompat-check(8))).
  - Read-only; the result is the same in check mode.
  - sdcompat-check's exit status 1 (an entry at risk) and 2 (could not check) are results, not
    failures; the module fails only when sdcompat-check gives no report (not installed, a usage error).
version_added: "0.1.0"
author: sdcompat maintainers
options:
  boot_dir:
    description: Where to look for boot entries.
    type: path
    default: /boot
  image:
    description: Check this initramfs image instead of the boot entries.
    type: path
  root:
    description: The root file system to check against.
    type: path
    default: /
  cmdline:
    description: The kernel command line to assume (default the entry's own, else C(/proc/cmdline)).
    type: str
  rules_path:
    description: Colon-separated rule directories, highest precedence first (default sdcompat-check's).
    type: str
  executable:
    description: The sdcompat-check program.
    type: path
    default: sdcompat-check
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - An C(_info) module, so the report is returned, not set as C(ansible_facts); register it.
'''

EXAMPLES = r'''
- name: Check the host's boot entries
  sdcompat.sdcompat.sdcompat_check_info:
  register: sdcompat

- name: Show the hosts at risk
  ansible.builtin.debug:
    msg: "{{ sdcompat.summary }}"
  when: sdcompat.verdict == 'at-risk'
'''

RETURN = r'''
verdict:
  description: The host's verdict.
  returned: always
  type: str
  sample: at-risk
summary:
  description: The one line a person reads per host.
  returned: always
  type: str
  sample: >-
    web1: at-risk: 2 boot entries (1 at-risk, 1 safe); 1 would fail the boot
    (SDC-H2A on /boot/initrd.img-6.1.0-9-amd64), 0 degrade it; root systemd 257.9-1
exit_status:
  description: sdcompat-check's exit status (0 no risk found, 1 at risk, 2 could not check).
  returned: always
  type: int
  sample: 1
at_risk:
  description: The images of the entries at risk.
  returned: always
  type: list
  elements: str
  sample: [/boot/initrd.img-6.1.0-9-amd64]
inhibitors:
  description: The findings that would fail the boot and that nothing handles (rule id, entry, image, remedy).
  returned: always
  type: list
  elements: dict
report:
  description: sdcompat-check's whole JSON document (schema_version 1).
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sdcompat.sdcompat.plugins.module_utils.sdcompat import find_program, run_report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            boot_dir=dict(type='path', default='/boot'),
            image=dict(type='path'),
            root=dict(type='path', default='/'),
            cmdline=dict(type='str'),
            rules_path=dict(type='str'),
            executable=dict(type='path', default='sdcompat-check'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    exe = find_program(module, p['executable'])
    cmd = [exe, '--json=short', '--root=' + p['root'], '--boot-dir=' + p['boot_dir']]
    if p['image']:
        cmd.append('--image=' + p['image'])
    if p['cmdline'] is not None:
        cmd.append('--cmdline=' + p['cmdline'])
    if p['rules_path']:
        cmd.append('--rules-path=' + p['rules_path'])

    rc, report, err = run_report(module, cmd, 'sdcompat-check')

    entries = report.get('entries', [])
    inhibitors = []
    for e in entries:
        for h in e.get('hazards', []):
            if h.get('inhibitor') and h.get('match') == 'yes' and not h.get('handled'):
                inhibitors.append(dict(id=h.get('id'), entry=e.get('id'), image=e.get('image'),
                                       title=h.get('title'), remedy=h.get('remedy'),
                                       sdcompat_at_boot=h.get('sdcompat_at_boot')))
    module.exit_json(
        changed=False,
        verdict=report.get('verdict'),
        summary=report.get('summary'),
        exit_status=report.get('exit_status', rc),
        at_risk=[e.get('image') for e in entries if e.get('verdict') == 'at-risk'],
        inhibitors=inhibitors,
        report=report,
        stderr=err,
    )


if __name__ == '__main__':
    main()
