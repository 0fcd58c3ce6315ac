#!/usr/bin/python3
"""smtp_server.py - a real SMTP server for the e-mail tests (Debian's
python3-aiosmtpd): binds 127.0.0.1 on a kernel-chosen port (written to
--port-file once listening), saves each message as DIR/N.eml (+ N.json with
the envelope), counts connections in DIR/connections.  Options: STARTTLS
required with --cert/--key, AUTH checked with --user/--password-file,
--rcpt-reply "451 ..." to answer every RCPT with that reply, and "550" for
any recipient starting with "nobody@"; --tarpit accepts connections and never
says a word (a hung server)."""
import argparse
import asyncio
import json
import os
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Saver:
    def __init__(self, d, rcpt_reply):
        self.d = d
        self.n = 0
        self.rcpt_reply = rcpt_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.d, "%d" % self.n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "tls": session.ssl is not None, "auth": bool(session.authenticated)}, f)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 saved as %d" % self.n


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        with open(os.path.join(self.event_handler.d, "connections"), "a") as f:
            f.write("c\n")
        super().connection_made(transport)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--rcpt-reply")
    ap.add_argument("--tarpit", action="store_true")
    a = ap.parse_args()
    handler = Saver(a.dir, a.rcpt_reply)
    kw = {"decode_data": False, "hostname": "mail.test.invalid"}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kw.update(tls_context=ctx, require_starttls=True)
    if a.user:
        password = open(a.password_file).read().strip()

        def auth(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == a.user \
                and data.password.decode() == password
            return AuthResult(success=ok, handled=False)
        kw.update(authenticator=auth, auth_required=True, auth_require_tls=bool(a.cert))

    async def run():
        loop = asyncio.get_running_loop()
        factory = asyncio.Protocol if a.tarpit else (lambda: CountingSMTP(handler, **kw))
        srv = await loop.create_server(factory, "127.0.0.1", a.port)
        port = srv.sockets[0].getsockname()[1]
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
        print("listening on 127.0.0.1:%d" % port, flush=True)
        await srv.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main()
