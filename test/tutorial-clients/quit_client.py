"""Say hello, then quit: the server answers "bye" and closes the connection.

Usage: python3 quit_client.py HOST PORT [QUIT_WORD]   (quit, exit or /quit; default quit)
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])
QUIT_WORD = sys.argv[3] if len(sys.argv) > 3 else "quit"

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((HOST, PORT))
s.sendall(b"hello")
print("Received:", repr(s.recv(1024).decode()))
s.sendall(QUIT_WORD.encode())
print("Received:", repr(s.recv(1024).decode()))
# recv() returns b"" once the server has closed its side.
data = s.recv(1024)
if data == b"":
    print("The server closed the connection")
else:
    print("Still open, received:", repr(data))
s.close()
