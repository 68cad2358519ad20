#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# GNU Lesser General Public License v2.1 or later (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: sdcompat_inject
short_description: Protect initramfs images with sdcompat, or remove it from them
description:
  - Runs C(sdcompat-inject --json) on the given images or on every boot entry's image, and reports
    per image what it did (C(sdcompat-inject(8))).
  - With I(state=present) sdcompat is added to each image (or replaced by this version);
    with I(state=absent) it is removed. Images are rewritten atomically by sdcompat-inject.
  - In check mode sdcompat-inject runs with C(--dry-run) (it writes nothing, wherever the image
    is) and says what it would do; C(changed) is then whether any image would change. Otherwise
    it runs with C(--apply) (images under the boot directory are only written with it).
  - The task fails when sdcompat-inject refuses or fails on an image (exit status 1; a failed
    write is reported as C(refused) and leaves the image unchanged), or on a usage error (2).
  - C(changed) is what sdcompat-inject reports per image, never guessed.
version_added: "0.1.0"
author: sdcompat maintainers
options:
  images:
    description: The initramfs images. Mutually exclusive with I(all).
    type: list
    elements: path
    default: []
  all:
    description: Every boot entry's image (C(--all)).
    type: bool
    default: false
  boot_dir:
    description: Where I(all) looks for boot entries, and which images count as under /boot
      (C(--boot-dir)).
    type: path
    default: /boot
  state:
    description: C(present) protects the images, C(absent) removes sdcompat from them.
    type: str
    choices: [present, absent]
    default: present
  executable:
    description: The sdcompat-inject program.
    type: path
    default: sdcompat-inject
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
'''

EXAMPLES = r'''
- name: Protect every boot entry's image
  sdcompat.sdcompat.sdcompat_inject:
    all: true

- name: Remove sdcompat from one image
  sdcompat.sdcompat.sdcompat_inject:
    images: [/boot/initrd.img-6.1.0-9-amd64]
    state: absent
'''

RETURN = r'''
images:
  description: One result per image, as sdcompat-inject reports it.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The image's path.
      type: str
    action:
      description: injected, replaced, removed, unchanged, would-inject, would-replace, would-remove, immune or refused.
      type: str
    changed:
      description: Whether the image was (or, in check mode, would be) rewritten.
      type: bool
    reason:
      description: Why, in one sentence.
      type: str
    sdcompat_version:
      description: The version of sdcompat in the image afterwards, if any.
      type: str
refused:
  description: The images sdcompat-inject refused or failed on.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sdcompat.sdcompat.plugins.module_utils.sdcompat import find_program, run_report

WOULD = ('would-inject', 'would-replace', 'would-remove')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            images=dict(type='list', elements='path', default=[]),
            all=dict(type='bool', default=False),
            boot_dir=dict(type='path', default='/boot'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            executable=dict(type='path', default='sdcompat-inject'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['all'] == bool(p['images']):
        module.fail_json(msg='give either images or all=true')
    exe = find_program(module, p['executable'])
    # Without --apply, sdcompat-inject writes images outside the boot directory: check mode
    # must say --dry-run.
    cmd = [exe, '--json', '--boot-dir', p['boot_dir'], '--dry-run' if module.check_mode else '--apply']
    if p['state'] == 'absent':
        cmd.append('--remove')
    if p['all']:
        cmd.append('--all')
    else:
        cmd.append('--')
        cmd.extend(p['images'])

    rc, doc, err = run_report(module, cmd, 'sdcompat-inject', usage_rc=2)
    images = doc.get('images', [])
    if module.check_mode:
        changed = any(i.get('action') in WOULD or i.get('changed') for i in images)
    else:
        changed = any(i.get('changed') for i in images)
    refused = [i.get('image') for i in images if i.get('action') == 'refused']
    result = dict(changed=changed, images=images, refused=refused, rc=rc, stderr=err)
    if rc != 0:
        result['msg'] = 'sdcompat-inject refused or failed on %s' % (', '.join(refused) or 'some image')
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
