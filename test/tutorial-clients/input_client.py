"""The interactive tutorial client: each line typed is sent, the reply printed, until "quit".

Usage: python3 input_client.py HOST PORT   (type lines, or pipe them in)
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((HOST, PORT))
while True:
    message = input("> ")
    s.sendall(message.encode())
    data = s.recv(1024)
    print("Server:", repr(data.decode()))
    if message == "quit":
        break
s.close()
print("Goodbye")
