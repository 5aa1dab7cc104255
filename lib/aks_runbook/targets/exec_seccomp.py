"""The seccomp filter for the local cluster's `kubectl exec` sandbox, compiled with libseccomp.

bubblewrap loads a filter only as a compiled BPF program (`--seccomp FD`); libseccomp (the
Debian package libseccomp2, present wherever apt or systemd are) compiles one. It is called
through ctypes, so no Python package is needed. Every syscall is allowed except the ones below,
which fail with EPERM; a syscall from another architecture (32-bit x86 on x86-64, a common way
around a filter) kills the process, libseccomp's default for a foreign architecture.

clone3 fails with ENOSYS instead (its flags are out of a filter's reach; the C library then
uses clone, whose new-user-namespace flag the filter refuses).

Refused: the kernel's attack surface a shell and its tools never need (kernel keyrings, BPF,
perf, userfaultfd, io_uring, module loading), what would undo the sandbox (new namespaces,
mounts, chroot), and what reaches beyond it (ptrace and reading other processes' memory,
faking terminal input with TIOCSTI/TIOCLINUX).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from pathlib import Path

DENIED = (
    "add_key", "keyctl", "request_key",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "syslog", "acct", "quotactl",
    "swapon", "swapoff", "reboot", "uselib", "lookup_dcookie",
    "open_by_handle_at", "name_to_handle_at",
)
CLONE_NEWUSER = 0x10000000
TIOCSTI, TIOCLINUX = 0x5412, 0x541C

_ALLOW = 0x7FFF0000  # SCMP_ACT_ALLOW
_EPERM = 0x00050000 | errno.EPERM  # SCMP_ACT_ERRNO(EPERM)
_ENOSYS = 0x00050000 | errno.ENOSYS  # SCMP_ACT_ERRNO(ENOSYS)
_CMP_MASKED_EQ = 7  # enum scmp_compare


class _Arg(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class SeccompUnavailable(RuntimeError):
    """libseccomp is not on this machine, or refused the filter."""


def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp")
    if not name:
        raise SeccompUnavailable("libseccomp is not installed (Debian: libseccomp2)")
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_Arg)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    """Whether libseccomp is here to compile the filter."""
    try:
        _library()
        return True
    except SeccompUnavailable:
        return False


def write_filter(path: Path) -> Path:
    """Compile the filter into path (owner-only) and return it."""
    lib = _library()
    context = lib.seccomp_init(_ALLOW)
    if not context:
        raise SeccompUnavailable("seccomp_init failed")
    try:
        def deny(name: str, *args: _Arg, action: int = _EPERM) -> None:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:  # not a syscall on this architecture (e.g. uselib on arm64)
                if name == "clone3":
                    raise SeccompUnavailable("libseccomp does not know clone3 (older than "
                                             "2.5): a new user namespace could not be refused")
                return
            array = (_Arg * len(args))(*args) if args else None
            if lib.seccomp_rule_add_array(context, action, number, len(args), array) < 0:
                raise SeccompUnavailable(f"libseccomp refused the rule for {name}")

        for name in DENIED:
            deny(name)
        # clone() that asks for a new user namespace; clone3 passes its flags in memory a
        # filter cannot read, so it is refused as if the kernel lacked it (ENOSYS): the C
        # library then falls back to clone(), which the rule above judges
        deny("clone", _Arg(0, _CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
        deny("clone3", action=_ENOSYS)
        for request in (TIOCSTI, TIOCLINUX):
            # the kernel reads the request as 32 bits: compare only those
            deny("ioctl", _Arg(1, _CMP_MASKED_EQ, 0xFFFFFFFF, request))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if lib.seccomp_export_bpf(context, fd) < 0:
                raise SeccompUnavailable("seccomp_export_bpf failed")
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(context)
    return path
