"""A client on a GBK (Chinese Windows) terminal: it sends GBK bytes and reads GBK bytes back.

Usage: python3 gbk_client.py HOST PORT
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((HOST, PORT))
for message in ["你好，世界", "/upper hello 世界"]:
    s.sendall(message.encode("gbk"))
    data = s.recv(1024)
    print("Received:", data, "=", repr(data.decode("gbk")))
s.close()
