"""Many messages on one connection, each sent without a newline and answered before the next.

Usage: python3 many_messages_client.py HOST PORT
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])

messages = ["hello", "你好，世界", "/upper hi", "/reverse abc 你好", "/lower HeLLo", "the end"]

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((HOST, PORT))
for message in messages:
    s.sendall(message.encode())
    data = s.recv(1024)
    print("Sent:", repr(message), "Received:", repr(data.decode()))
s.close()
