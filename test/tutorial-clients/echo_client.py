"""The classic tutorial TCP client: send "你好" without a newline, then recv(1024).

Usage: python3 echo_client.py HOST PORT

It speaks first, so the server's reply is the first thing it reads, and no welcome
line follows: after the reply it listens a little longer to show that nothing else comes.
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((HOST, PORT))
s.sendall("你好".encode())
data = s.recv(1024)
print("Received:", repr(data.decode()))

s.settimeout(1.5)
try:
    more = s.recv(1024)
    print("Then:", repr(more))
except socket.timeout:
    print("Then: nothing more")
s.close()
