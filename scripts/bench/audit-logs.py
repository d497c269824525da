#!/usr/bin/python3
"""Access logs for scripts/bench/audit-logs. Standard library only.

  audit-logs.py iis|combined --size BYTES [--seed S] [--users N] [--out FILE]
      Writes a generated access log of at least BYTES bytes (it stops after the line that
      crosses BYTES) to FILE (default stdout), in time order from 2026-11-01 00:00 UTC.
      Deterministic: the same arguments give the same bytes.

      iis: an Exchange 2016/2019 front end's IIS W3C extended log. `#Software/#Version/#Date/
        #Fields` at the start and again at each new day (IIS writes them when it opens a file),
        fields `date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip
        cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken`.
        ~62% of lines are ActiveSync (`/Microsoft-Server-ActiveSync/default.eas`, plain and
        base64 queries, Exchange's `&Log=` with `Ver1:161` or `V141` style version tokens,
        `DevOS:`, `As:`, ActivityContextData...), 1% HealthMailbox / TestActiveSyncConnectivity
        probes, the rest OWA, ECP, EWS, MAPI over HTTP, Autodiscover and OAB.
      combined: nginx in front of SOGo with `log_format` combined plus
        `"$http_ms_asprotocolversion"`. ~55% ActiveSync (`/SOGo/Microsoft-Server-ActiveSync`,
        plain queries with the version header, base64 POSTs logged with user agent "-"),
        the rest the SOGo web UI, its static files, CalDAV/CardDAV and .well-known.

      Users: --users N (default 5,000), each with 1-3 devices (iOS, Android Exchange app,
      Gmail, Samsung Email, Outlook desktop, Windows Mail, Windows Phone, Nine, TouchDown,
      Windows Mobile), each device with its own protocol version and query form. Commands:
      Ping and Sync dominate, then FolderSync, ItemOperations, GetItemEstimate, MoveItems,
      SendMail, SmartReply, Settings, Search, Provision, OPTIONS. HTTP statuses: mostly 200,
      some 401 (no user), 449 (provisioning), 503, 500. One line in 200,000 is cut short
      (a truncated write): the parser must report it as malformed.
"""

import argparse
import base64
import random
import sys

EPOCH_2026_11_01 = 1793491200  # 2026-11-01T00:00:00Z
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
COMMANDS = [  # (name, base64 code, weight)
    ("Ping", 18, 36), ("Sync", 0, 38), ("FolderSync", 9, 5), ("ItemOperations", 19, 5),
    ("GetItemEstimate", 14, 4), ("MoveItems", 13, 2), ("SendMail", 1, 2), ("SmartReply", 3, 1),
    ("Settings", 17, 1), ("Search", 15, 1), ("Provision", 20, 1), ("OPTIONS", None, 4),
]
CMD_WEIGHTS = [c[2] for c in COMMANDS]

# (user agent, device type, device id style, protocol versions to pick from, base64 share)
CLIENTS = [
    ("Apple-iPhone14C2/2001.101", "iPhone", "ios", ["16.1"], 0.0, 22),
    ("Apple-iPhone15C3/2101.86", "iPhone", "ios", ["16.1"], 0.0, 14),
    ("Apple-iPhone13C2/1906.66", "iPhone", "ios", ["16.1"], 0.0, 10),
    ("Apple-iPad13C1/2001.101", "iPad", "ios", ["16.1"], 0.0, 6),
    ("Apple-iPhone9C3/1602.92", "iPhone", "appl", ["16.1", "14.1"], 0.0, 3),
    ("Android/8.0.0-EAS-2.0", "Android", "androidc", ["14.1"], 0.0, 5),
    ("SonyG8341/9-EAS-2.0", "SonyG8341", "androidc", ["14.1"], 0.0, 1),
    ("Android-Mail/2024.10.13.682", "Android", "androidc", ["16.1", "14.1"], 0.0, 9),
    ("SAMSUNG-SM-G991B/101.150401", "SAMSUNGSMG991B", "sec", ["16.1"], 0.0, 7),
    ("SAMSUNG-SM-A536B/101.140103", "SAMSUNGSMA536B", "sec", ["14.1", "16.1"], 0.0, 4),
    ("Outlook/16.0 (16.0.17928.20156; x64)", "WindowsOutlook15", "hex", ["16.1"], 0.0, 6),
    ("WindowsMail/17.5.9600.22013", "WindowsMail", "hex", ["14.0", "12.1"], 0.5, 3),
    ("MSFT-WP/10.0.15254", "WP8", "hex", ["14.1", "14.0"], 1.0, 2),
    ("Nine/5.1.3a", "Android", "nine", ["16.1", "14.1"], 0.0, 3),
    ("TouchDown(MSRPC)/8.5.00052", "TouchDown", "hex", ["14.1", "12.1"], 0.3, 2),
    ("MSFT-PPC/5.2.5082", "PocketPC", "hex", ["12.1"], 0.8, 1),
    ("BlackBerry/10.3.3.3216", "BlackBerry", "hex", ["14.1"], 0.0, 1),
]
CLIENT_WEIGHTS = [c[5] for c in CLIENTS]

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
]
OUTLOOK_UA = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
MAC_OUTLOOK_UA = "MacOutlook/16.90.24101712 (Intelx64 Mac OS X 14.7 (Build 23H124))"
DAV_UAS = ["DAVx5/4.4.3.2-ose (2024/10/03; dav4jvm; okhttp/4.12.0) Android/14",
           "macOS/14.7 (23H124) CalendarAgent/1010", "Thunderbird/128.4.0"]


class Gen:
    def __init__(self, kind, seed, users):
        self.kind = kind
        self.r = random.Random(seed)
        self.t = float(EPOCH_2026_11_01)
        self.users = [self.make_user(i) for i in range(users)]
        self.devices = [d for u in self.users for d in u["devices"]]
        self.b64_cache = {}

    def hexid(self, n):
        return "".join(self.r.choice("0123456789ABCDEF") for _ in range(n))

    def make_user(self, i):
        r = self.r
        name = "%s.%s%d" % (r.choice(["anna", "ben", "chris", "dana", "emil", "fatma", "georg", "hanna",
                                       "ivan", "jana", "karl", "lena", "mehmet", "nina", "olaf", "paula"]),
                             r.choice(["meyer", "schulz", "novak", "rossi", "garcia", "smith", "kowalski",
                                       "yilmaz", "jensen", "dubois"]), i)
        user = {"name": name, "ip": "10.%d.%d.%d" % (r.randrange(1, 30), r.randrange(256), r.randrange(1, 255)),
                "devices": []}
        for _ in range(r.choice([1, 1, 1, 2, 2, 3])):
            c = r.choices(CLIENTS, CLIENT_WEIGHTS)[0]
            ua, dtype, idstyle, versions, b64share, _ = c
            raw_id = None
            if idstyle == "ios":
                did = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(26))
            elif idstyle == "appl":
                did = "Appl" + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(11))
            elif idstyle == "androidc":
                did = "androidc%d" % r.randrange(10**9, 10**10)
            elif idstyle == "sec":
                did = "SEC" + self.hexid(13)
            elif idstyle == "nine":
                did = "Nine" + self.hexid(12)
            else:
                raw_id = bytes(r.randrange(256) for _ in range(16))
                did = raw_id.hex().upper()
            user["devices"].append({
                "user": name, "ip": user["ip"], "ua": ua, "type": dtype, "id": did,
                "raw_id": raw_id or did.encode(), "version": r.choice(versions),
                # IIS cs-username: a device authenticates the same way every time
                "login": "EXAMPLE\\" + name if r.random() < 0.7 else name + "@example.org",
                "b64": r.random() < b64share,
                "devos": "iOS 18.1 22B83" if dtype in ("iPhone", "iPad") else ("Android 14" if "Android" in ua or "SAMSUNG" in ua else ""),
                "plain_q": "User=%s&DeviceId=%s&DeviceType=%s" % (name, did, dtype),
            })
        return user

    def b64_query(self, d, code):
        key = (d["id"], code)
        q = self.b64_cache.get(key)
        if q is None:
            v = int(d["version"].replace(".", ""))
            rid = d["raw_id"]
            body = bytes([v, code, 0x09, 0x04, len(rid)]) + rid + bytes([4]) + \
                self.r.randrange(1 << 32).to_bytes(4, "little") + bytes([len(d["type"])]) + d["type"].encode()
            if code == 0 or code == 19:
                body += bytes([7, 1, 0])  # Options
            q = base64.b64encode(body).decode()
            self.b64_cache[key] = q
        return q

    def tick(self):
        # ~40 requests a second on average, in bursts
        self.t += self.r.expovariate(40.0)
        return int(self.t)

    def pick_request(self):
        """(device, command, status, time_taken) of an ActiveSync request."""
        r = self.r
        d = r.choice(self.devices)
        cmd, code, _ = r.choices(COMMANDS, CMD_WEIGHTS)[0]
        x = r.random()
        status = 200
        if x < 0.03:
            status = 401
        elif x < 0.035 and cmd != "OPTIONS":
            status = 449 if d["version"] in ("12.1", "2.5") else 200
        elif x < 0.04:
            status = 503
        elif x < 0.042:
            status = 500
        taken = r.randrange(900000, 1780000) if cmd == "Ping" and status == 200 else r.randrange(15, 4000)
        return d, cmd, code, status, taken


def iis_log_token(g, d, cmd, status, t):
    r = g.r
    ver = d["version"].replace(".", "")
    guid = "%08x-%04x-%04x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                                          r.getrandbits(16), r.getrandbits(48))
    parts = []
    if r.random() < 0.7:
        parts.append("SC1:%d_Ver1:%s_HH:mail.example.org_SmtpAdrs:%s%%40example.org" % (1 if status == 200 else 2, ver, d["user"]))
    else:
        parts.append("V%s_HH:mail.example.org_SmtpAdrs:%s%%40example.org" % (ver, d["user"]))
    if d["devos"] and r.random() < 0.3:
        parts.append("DevOS:" + d["devos"].replace(" ", "+"))
    parts.append("As:AllowedG_Mbx:EXMBX%02d.example.org_Dc:DC%02d.example.org" % (r.randrange(1, 5), r.randrange(1, 3)))
    if cmd == "Sync":
        parts.append("Fc%d_Sk%d_Fet%d_Cpo%d" % (r.randrange(1, 6), r.randrange(10**9, 10**10),
                                                 r.randrange(1, 900), r.randrange(1, 999)))
    elif cmd == "Ping":
        parts.append("Hb%d_Rto%d_Cpo%d" % (r.choice([480, 900, 1740]), r.randrange(1, 3), r.randrange(1, 99)))
    if status != 200:
        parts.append("Error:%s" % {401: "NotAuthenticated", 449: "NeedProvision", 503: "ServerBusy",
                                    500: "ServerError"}.get(status, "Other"))
    parts.append("Throttle0_SBkOffD:L%2f-470_TmSt:2026-11-01T00%3a00%3a00.000Z")
    parts.append("ActivityContextData:ActivityID%3d" + guid +
                 "%3bI32%3aADS.C%5bDC01%5d%3d1%3bF%3aADS.AL%5bDC01%5d%3d1.8342%3bI32%3aMAPI.C%5bEXMBX01%5d%3d12"
                 "%3bF%3aMAPI.AL%5bEXMBX01%5d%3d3.1467%3bS%3aWLM.Bal%3d300000%3bS%3aWLM.BT%3dEas_")
    return "_".join(parts)


def iis_lines(g):
    r = g.r
    header_day = None
    while True:
        t = g.tick()
        day, rest = divmod(t, 86400)
        if day != header_day:
            header_day = day
            date = "%04d-%02d-%02d" % ymd(day)
            yield ("#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: %s 00:00:00\n"
                   "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
                   "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n" % date)
        ts = "%s %02d:%02d:%02d" % (date, rest // 3600, rest // 60 % 60, rest % 60)
        sip = "10.0.1.%d" % r.randrange(11, 15)
        x = r.random()
        if x < 0.62:
            d, cmd, code, status, taken = g.pick_request()
            user = "-" if status == 401 else d["login"]
            log = iis_log_token(g, d, cmd, status, t)
            if cmd == "OPTIONS":
                method, stem, query = "OPTIONS", "/Microsoft-Server-ActiveSync/default.eas", "&Log=" + log.split("_As:")[0]
            elif d["b64"]:
                method, stem, query = "POST", "/Microsoft-Server-ActiveSync/default.eas", g.b64_query(d, code) + "&Log=" + log
            else:
                method, stem = "POST", "/Microsoft-Server-ActiveSync/default.eas"
                query = d["plain_q"] + "&Cmd=" + cmd + "&Log=" + log
            ua = d["ua"].replace(" ", "+")
            yield "%s %s %s %s %s 443 %s %s %s - %d 0 0 %d\n" % (ts, sip, method, stem, query, user, d["ip"], ua,
                                                                    status, taken)
        elif x < 0.63:
            hm = "HealthMailbox%s" % g.hexid(7).lower()
            yield ("%s %s POST /Microsoft-Server-ActiveSync/Proxy/default.eas User=%s%%40example.org&DeviceId=Test"
                   "ActiveSyncConnectivity&DeviceType=TestActiveSyncConnectivity&Cmd=FolderSync&Log=SC1:1_Ver1:161_"
                   "As:AllowedG_Mbx:EXMBX01.example.org_Throttle0 444 EXAMPLE\\%s 127.0.0.1 "
                   "Microsoft-Exchange/15.02.1544.004+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 %d\n"
                   % (ts, sip, hm, hm, r.randrange(20, 400)))
        else:
            u = r.choice(g.users)
            uname = "EXAMPLE\\" + u["name"]
            cid = "%08x-%04x-%04x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                                                 r.getrandbits(16), r.getrandbits(48))
            y = r.random()
            if y < 0.40:
                line = ("POST /mapi/emsmdb/ mailboxId=%s@example.org&CorrelationID=<empty>;&cafeReqId=%s; 443 %s %s %s"
                        % (cid, cid, uname, u["ip"], OUTLOOK_UA.replace(" ", "+")), 200)
            elif y < 0.60:
                line = ("POST /owa/service.svc action=%s&EP=1&ID=-%d&AC=1 443 %s %s %s" %
                        (r.choice(["GetItem", "FindItem", "FindConversation", "GetConversationItems", "UpdateItem"]),
                         r.randrange(1, 200), uname, u["ip"], r.choice(BROWSERS).replace(" ", "+")), 200)
            elif y < 0.75:
                line = ("POST /EWS/Exchange.asmx &CorrelationID=<empty>;&cafeReqId=%s; 443 %s %s %s" %
                        (cid, uname, u["ip"], MAC_OUTLOOK_UA.replace(" ", "+")), 200)
            elif y < 0.90:
                line = ("POST /Autodiscover/Autodiscover.xml &CorrelationID=<empty>;&cafeReqId=%s; 443 %s %s %s" %
                        (cid, uname, u["ip"], OUTLOOK_UA.replace(" ", "+")), r.choice([200, 200, 200, 401]))
            elif y < 0.96:
                line = ("GET /ecp/DDI/DDIService.svc/GetList schema=MailboxService&msExchEcpCanary=%s 443 %s %s %s" %
                        (g.hexid(40).lower(), uname, u["ip"], r.choice(BROWSERS).replace(" ", "+")), 200)
            else:
                line = ("GET /OAB/%s/oab.xml &CorrelationID=<empty>;&cafeReqId=%s; 443 %s %s %s" %
                        (cid, cid, uname, u["ip"], OUTLOOK_UA.replace(" ", "+")), 200)
            text, status = line
            if status == 401:
                text = text.replace(" " + uname + " ", " - ")
            yield "%s %s %s - %d 0 0 %d\n" % (ts, sip, text, status, r.randrange(3, 900))


def ymd(day):
    import datetime
    dt = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
    return dt.year, dt.month, dt.day


def combined_lines(g):
    r = g.r
    cur_day = None
    while True:
        t = g.tick()
        day, rest = divmod(t, 86400)
        if day != cur_day:
            cur_day = day
            y, m, dd = ymd(day)
            dstr = "%02d/%s/%04d" % (dd, MONTHS[m - 1], y)
        ts = "[%s:%02d:%02d:%02d +0000]" % (dstr, rest // 3600, rest // 60 % 60, rest % 60)
        x = r.random()
        if x < 0.55:
            d, cmd, code, status, taken = g.pick_request()
            user = "-" if status == 401 else d["user"]
            size = r.randrange(8, 60) if cmd == "Ping" else r.randrange(13, 40000)
            if cmd == "OPTIONS":
                target, ua, ver = "/SOGo/Microsoft-Server-ActiveSync", d["ua"], "-"
            elif d["b64"]:
                target, ua, ver = "/SOGo/Microsoft-Server-ActiveSync?" + g.b64_query(d, code), "-", "-"
            else:
                target, ua, ver = ("/SOGo/Microsoft-Server-ActiveSync?Cmd=%s&%s" % (cmd, d["plain_q"]),
                                   d["ua"], d["version"])
            method = "OPTIONS" if cmd == "OPTIONS" else "POST"
            yield '%s - %s %s "%s %s HTTP/1.1" %d %d "-" "%s" "%s"\n' % (d["ip"], user, ts, method, target, status,
                                                                        size, ua, ver)
        else:
            u = r.choice(g.users)
            name = u["name"]
            y = r.random()
            ua = r.choice(BROWSERS)
            ref = "https://mail.example.org/SOGo/so/%s/Mail/view" % name
            status = 200
            if y < 0.35:
                req = "GET /SOGo.woa/WebServerResources/js/%s?lm=1730451234" % r.choice(
                    ["Common.js", "Mailer.js", "Scheduler.js", "Contacts.js", "vendor/angular.min.js"])
                user = "-"
                status = r.choice([200, 304, 304])
            elif y < 0.60:
                req = "POST /SOGo/so/%s/Mail/0/folderINBOX/%s" % (name, r.choice(
                    ["view", "changes", "headers", "uids", "%d/viewAsAttachment" % r.randrange(1, 9999)]))
                user = name
            elif y < 0.75:
                req = "GET /SOGo/so/%s/Calendar/eventslist?asc=true&sort=start&filterpopup=view_selectedday&sd=20261101&ed=20261108" % name
                user = name
            elif y < 0.92:
                req = "%s /SOGo/dav/%s/%s/personal/" % (r.choice(["PROPFIND", "REPORT"]), name,
                                                       r.choice(["Calendar", "Contacts"]))
                user, ua, ref = name, r.choice(DAV_UAS), "-"
                status = 207
            elif y < 0.97:
                req = "GET /.well-known/caldav"
                user, ua, ref, status = "-", r.choice(DAV_UAS), "-", 301
            else:
                req = "POST /SOGo/connect"
                user, status = "-", r.choice([200, 403])
            yield '%s - %s %s "%s HTTP/1.1" %d %d "%s" "%s" "-"\n' % (u["ip"], user, ts, req, status,
                                                                    r.randrange(200, 90000), ref, ua)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["iis", "combined"])
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--users", type=int, default=5000)
    p.add_argument("--out")
    a = p.parse_args()
    g = Gen(a.kind, a.seed, a.users)
    gen = iis_lines(g) if a.kind == "iis" else combined_lines(g)
    out = open(a.out, "w", encoding="ascii", newline="\n") if a.out else sys.stdout
    written, lines, batch, batch_bytes = 0, 0, [], 0
    for line in gen:
        lines += 1
        if lines % 200000 == 0 and line[0] != "#":
            line = line[: len(line) // 2] + "\n"  # a truncated write
        batch.append(line)
        batch_bytes += len(line)
        if batch_bytes >= 4 << 20 or written + batch_bytes >= a.size:
            out.write("".join(batch))
            written += batch_bytes
            batch, batch_bytes = [], 0
            if written >= a.size:
                break
    out.flush()
    if out is not sys.stdout:
        out.close()
    sys.stderr.write("audit-logs.py: %s: %d bytes, %d lines\n" % (a.kind, written, lines))


if __name__ == "__main__":
    main()
