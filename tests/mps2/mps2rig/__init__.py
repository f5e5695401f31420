"""The rig of the mps2-an385 network test: a network namespace with DNS, NTP
and the reference server in it, the board (QEMU or the stand-in) on a tap
device, and the console follower that decides whether every step happened.
"""
