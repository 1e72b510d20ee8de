"""A two-way chat client, one per terminal: a thread prints what the server sends while the
main loop sends each line typed (or piped in), in the terminal's encoding, until "quit".

Usage: python3 chat_client.py HOST PORT [ENCODING]   (utf-8 or gbk; default utf-8)
"""
import socket
import sys
import threading

HOST = sys.argv[1]
PORT = int(sys.argv[2])
ENCODING = sys.argv[3] if len(sys.argv) > 3 else "utf-8"

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# A real chat may stay quiet for long; this one is for tests: give up after 5 s of silence.
s.settimeout(5)
s.connect((HOST, PORT))


def receive():
    buffer = b""
    while True:
        try:
            data = s.recv(1024)
        except socket.timeout:
            print("nothing received for 5 s, giving up")
            return
        if not data:
            print("connection closed by the server")
            return
        buffer += data
        # Print whole lines only: a recv() may end in the middle of a character.
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            print("received:", line.decode(ENCODING, errors="replace"))


receiver = threading.Thread(target=receive)
receiver.start()
for line in sys.stdin:
    s.sendall(line.encode(ENCODING))
    if line.strip() == "quit":
        break
receiver.join()
s.close()
