"""The tutorial UDP client: sendto() one datagram, recvfrom() the reply, in the given encoding.

Usage: python3 udp_client.py HOST PORT [ENCODING]   (utf-8 or gbk; default utf-8)
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])
ENCODING = sys.argv[3] if len(sys.argv) > 3 else "utf-8"

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for message in ["你好，世界", "/upper hello 世界", "/help"]:
    s.sendto(message.encode(ENCODING), (HOST, PORT))
    data, address = s.recvfrom(1024)
    print("Received:", data, "=", repr(data.decode(ENCODING)))
s.close()
