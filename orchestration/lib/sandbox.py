"""Make the current process unable to write files, with Linux Landlock (kernel 5.13+).

DuckDB has no read-only form of `allowed_directories`: a connection that may read the raw snapshot
folder may also write there (COPY ... TO, EXPORT DATABASE). `observatory query` therefore also asks
the kernel to refuse every file write, creation, removal and rename for the rest of its process.
Unlike file modes, this holds for root too. It is irreversible, so only a process that does nothing
else (the query command) calls it, before it opens DuckDB, so that DuckDB's threads inherit it.

Where Landlock is missing (older kernels, some sandboxes), `deny_file_writes` returns False and
the statement checks of safe_query are the protection.
"""

import ctypes
import os
import platform
import threading

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_WRITE_FILE = 1 << 1
_WRITES_V1 = (
    _WRITE_FILE
    | 1 << 4  # REMOVE_DIR
    | 1 << 5  # REMOVE_FILE
    | 1 << 6  # MAKE_CHAR
    | 1 << 7  # MAKE_DIR
    | 1 << 8  # MAKE_REG
    | 1 << 9  # MAKE_SOCK
    | 1 << 10  # MAKE_FIFO
    | 1 << 11  # MAKE_BLOCK
    | 1 << 12  # MAKE_SYM
)
_REFER = 1 << 13  # ABI 2: links and renames across folders
_TRUNCATE = 1 << 14  # ABI 3


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none."""
    if platform.system() != "Linux":
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def deny_file_writes(writable_devices: str = "/dev") -> bool:
    """From now on this process (and threads and children it starts later) cannot create, write,
    truncate, rename or remove any file, except device files under `writable_devices` (/dev/null).
    Already open files (stdout, stderr) stay writable. Returns whether the kernel enforces it."""
    abi = landlock_abi()
    if abi < 1 or threading.active_count() != 1:  # threads started earlier would not be covered
        return False
    handled = _WRITES_V1 | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _RulesetAttr(handled)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        devices = os.open(writable_devices, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = _PathBeneathAttr(_WRITE_FILE | (_TRUNCATE if abi >= 3 else 0), devices)
            if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)):
                return False
        finally:
            os.close(devices)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            return False
        return libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)
