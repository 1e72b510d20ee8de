"""A tutorial client that reads first: connect, recv(1024) for the welcome, then talk.

Usage: python3 welcome_client.py HOST PORT
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((HOST, PORT))
welcome = s.recv(1024)
print("Welcome:", repr(welcome.decode("ascii")))
s.sendall(b"hello")
data = s.recv(1024)
print("Received:", repr(data.decode()))
s.close()
