// Copyright 2026 the @sidecar/ipc authors. MIT license.
//
// A small peer around the real BIND 10 socket session code that Debian 12's
// kea-common 2.2.0 ships in libkea-util-io.so.0. Kea does not install
// socketsession.h, so the few classes are declared here with the library's
// member layout and virtual order. The session tests compile this with g++
// into a temporary directory:
//
//   g++ -O2 -o peer kea_peer.cc /usr/lib/<triplet>/libkea-util-io.so.0
//       /usr/lib/<triplet>/libkea-exceptions.so.13
//
// Modes (one JSON object per line on stdout):
//   recv PATH CONNS          listen on PATH; for each of CONNS connections pop
//                            sessions until an error or the end; print each
//                            session, reply on its fd (UDP: sendto the local
//                            endpoint; TCP: send), print {"error": what()}.
//   recv-hold PATH           as recv with one connection, but after accepting
//                            it print {"accepted":true} and pop only once a
//                            line arrives on stdin.
//   give PATH SPEC...        connect to PATH; for each SPEC (udp4|udp6):LEN
//                            bind a UDP socket on loopback, push it with LEN
//                            bytes, close our copy (the receiver owns the
//                            socket now) and print {"spec":S,"port":P}.
//   send PATH SPEC...        connect to PATH; for each SPEC (udp4|udp6|tcp4|
//                            tcp6):LEN create the socket, push it with LEN
//                            bytes, then wait for the receiver's reply on our
//                            own end and print it.
//   bench-send PATH N LEN    push N UDP sessions with LEN bytes (waiting for
//                            POLLOUT before each push).
//   bench-recv PATH N        accept one connection, pop N sessions, close each
//                            fd, print {"n":N,"seconds":S} from first to last.
//   e2e-front PATH           accept TCP on 127.0.0.1 (port printed), read the
//                            first bytes, push each connection, close it.
//   e2e-worker PATH          pop sessions, answer "ok" on each, close it.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace isc {
namespace util {
namespace io {

class BaseSocketSessionForwarder {
public:
    BaseSocketSessionForwarder() {}
    virtual ~BaseSocketSessionForwarder() {}
    virtual void connectToReceiver() = 0;
    virtual void close() = 0;
    virtual void push(int sock, int family, int type, int protocol,
                      const struct sockaddr& local_end,
                      const struct sockaddr& remote_end,
                      const void* data, size_t data_len) = 0;
};

class SocketSessionForwarder : public BaseSocketSessionForwarder {
public:
    explicit SocketSessionForwarder(const std::string& unix_file);
    virtual ~SocketSessionForwarder();
    virtual void connectToReceiver();
    virtual void close();
    virtual void push(int sock, int family, int type, int protocol,
                      const struct sockaddr& local_end,
                      const struct sockaddr& remote_end,
                      const void* data, size_t data_len);
private:
    SocketSessionForwarder(const SocketSessionForwarder&);
    struct ForwarderImpl;
    ForwarderImpl* impl_;
};

class SocketSession {
public:
    SocketSession(int sock, int family, int type, int protocol,
                  const sockaddr* local_end, const sockaddr* remote_end,
                  const void* data, size_t data_len);
    int getSocket() const { return sock_; }
    int getFamily() const { return family_; }
    int getType() const { return type_; }
    int getProtocol() const { return protocol_; }
    const sockaddr& getLocalEndpoint() const { return *local_end_; }
    const sockaddr& getRemoteEndpoint() const { return *remote_end_; }
    const void* getData() const { return data_; }
    size_t getDataLength() const { return data_len_; }
private:
    const int sock_;
    const int family_;
    const int type_;
    const int protocol_;
    const sockaddr* local_end_;
    const sockaddr* remote_end_;
    const void* data_;
    const size_t data_len_;
};

class SocketSessionReceiver {
public:
    explicit SocketSessionReceiver(int fd);
    ~SocketSessionReceiver();
    SocketSession pop();
private:
    SocketSessionReceiver(const SocketSessionReceiver&);
    struct ReceiverImpl;
    ReceiverImpl* impl_;
};

}  // namespace io
}  // namespace util
}  // namespace isc

using isc::util::io::SocketSession;
using isc::util::io::SocketSessionForwarder;
using isc::util::io::SocketSessionReceiver;

static void die(const char* what) {
    std::printf("{\"fatal\":\"%s: %s\"}\n", what, std::strerror(errno));
    std::fflush(stdout);
    std::exit(2);
}

static std::string hex(const void* p, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; i++) {
        s += digits[b[i] >> 4];
        s += digits[b[i] & 15];
    }
    return s;
}

static std::string jsonEscape(const char* text) {
    std::string s;
    for (const char* c = text; *c; c++) {
        if (*c == '"' || *c == '\\') s += '\\';
        if (static_cast<unsigned char>(*c) < 0x20) continue;
        s += *c;
    }
    return s;
}

static int openFdCount() {
    int n = 0;
    for (int fd = 0; fd < 1024; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) n++;
    }
    return n;
}

static socklen_t saLength(const sockaddr& sa) {
    return sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

static double cpuSeconds() {
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int listenUnix(const char* path) {
    sockaddr_un sun;
    std::memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    std::strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
    unlink(path);
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)) < 0 ||
        listen(fd, 16) < 0) {
        die("listen");
    }
    std::printf("{\"ready\":true}\n");
    std::fflush(stdout);
    return fd;
}

static int modeRecv(const char* path, int conns, bool hold) {
    const int lfd = listenUnix(path);
    for (int c = 0; c < conns; c++) {
        const int fd = accept(lfd, NULL, NULL);
        if (fd < 0) die("accept");
        SocketSessionReceiver receiver(fd);
        if (hold) {
            std::printf("{\"accepted\":true}\n");
            std::fflush(stdout);
            char line[64];
            if (std::fgets(line, sizeof(line), stdin) == NULL) die("stdin");
        }
        while (true) {
            try {
                const SocketSession s = receiver.pop();
                const int sock = s.getSocket();
                std::printf("{\"fd\":%d,\"family\":%d,\"type\":%d,\"protocol\":%d,"
                            "\"local\":\"%s\",\"remote\":\"%s\",\"length\":%zu,"
                            "\"data\":\"%s\"}\n",
                            sock, s.getFamily(), s.getType(), s.getProtocol(),
                            hex(&s.getLocalEndpoint(), saLength(s.getLocalEndpoint())).c_str(),
                            hex(&s.getRemoteEndpoint(), saLength(s.getRemoteEndpoint())).c_str(),
                            s.getDataLength(),
                            hex(s.getData(), s.getDataLength() > 64 ? 64 : s.getDataLength()).c_str());
                std::fflush(stdout);
                static const char reply[] = "kea reply";
                int flags = fcntl(sock, F_GETFL);
                fcntl(sock, F_SETFL, flags & ~O_NONBLOCK);
                if (s.getType() == SOCK_DGRAM) {
                    sendto(sock, reply, sizeof(reply) - 1, 0, &s.getLocalEndpoint(),
                           saLength(s.getLocalEndpoint()));
                } else {
                    send(sock, reply, sizeof(reply) - 1, MSG_NOSIGNAL);
                }
                close(sock);
            } catch (const std::exception& ex) {
                std::printf("{\"error\":\"%s\",\"fds\":%d}\n", jsonEscape(ex.what()).c_str(),
                            openFdCount());
                std::fflush(stdout);
                break;
            }
        }
        close(fd);
    }
    close(lfd);
    unlink(path);
    return 0;
}

static void makeAddr(int family, sockaddr_storage* ss) {
    std::memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        sockaddr_in* a = reinterpret_cast<sockaddr_in*>(ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        sockaddr_in6* a = reinterpret_cast<sockaddr_in6*>(ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
    }
}

static void boundSocket(int family, int type, sockaddr_storage* ss, int* fd) {
    makeAddr(family, ss);
    *fd = socket(family, type, 0);
    socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (*fd < 0 || bind(*fd, reinterpret_cast<sockaddr*>(ss), len) < 0) die("bind");
    if (type == SOCK_STREAM && listen(*fd, 4) < 0) die("listen");
    len = sizeof(*ss);
    getsockname(*fd, reinterpret_cast<sockaddr*>(ss), &len);
}

static bool waitReadable(int fd, int ms) {
    pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) > 0;
}

static int modeSend(const char* path, int argc, char** argv) {
    SocketSessionForwarder forwarder(path);
    try {
        forwarder.connectToReceiver();
    } catch (const std::exception& ex) {
        std::printf("{\"error\":\"%s\"}\n", jsonEscape(ex.what()).c_str());
        return 1;
    }
    for (int i = 0; i < argc; i++) {
        const std::string spec = argv[i];
        const bool tcp = spec.compare(0, 3, "tcp") == 0;
        const int family = spec[3] == '6' ? AF_INET6 : AF_INET;
        const size_t len = std::strtoul(spec.c_str() + 5, NULL, 10);
        std::string data;
        for (size_t k = 0; k < len; k++) data += static_cast<char>('a' + k % 26);
        sockaddr_storage local, remote;
        int sock, client = -1, server = -1;
        boundSocket(family, tcp ? SOCK_STREAM : SOCK_DGRAM, &local, &sock);
        if (tcp) {
            boundSocket(family, SOCK_STREAM, &remote, &client);
            close(client);
            client = socket(family, SOCK_STREAM, 0);
            if (connect(client, reinterpret_cast<sockaddr*>(&local), saLength(*reinterpret_cast<sockaddr*>(&local))) < 0) {
                die("connect");
            }
            socklen_t rl = sizeof(remote);
            getsockname(client, reinterpret_cast<sockaddr*>(&remote), &rl);
            server = accept(sock, NULL, NULL);
            if (server < 0) die("accept");
        } else {
            makeAddr(family, &remote);
            if (family == AF_INET) {
                inet_pton(AF_INET, "192.0.2.2", &reinterpret_cast<sockaddr_in*>(&remote)->sin_addr);
                reinterpret_cast<sockaddr_in*>(&remote)->sin_port = htons(5300);
            } else {
                inet_pton(AF_INET6, "2001:db8::1", &reinterpret_cast<sockaddr_in6*>(&remote)->sin6_addr);
                reinterpret_cast<sockaddr_in6*>(&remote)->sin6_port = htons(5300);
            }
        }
        try {
            forwarder.push(tcp ? server : sock, family, tcp ? SOCK_STREAM : SOCK_DGRAM,
                           tcp ? IPPROTO_TCP : IPPROTO_UDP,
                           *reinterpret_cast<sockaddr*>(&local),
                           *reinterpret_cast<sockaddr*>(&remote), data.data(), data.size());
        } catch (const std::exception& ex) {
            std::printf("{\"spec\":\"%s\",\"error\":\"%s\"}\n", spec.c_str(), jsonEscape(ex.what()).c_str());
            std::fflush(stdout);
            continue;
        }
        const int reader = tcp ? client : sock;
        char buf[256];
        ssize_t n = -1;
        if (waitReadable(reader, 10000)) n = recv(reader, buf, sizeof(buf), 0);
        std::printf("{\"spec\":\"%s\",\"local\":\"%s\",\"remote\":\"%s\",\"reply\":\"%s\"}\n",
                    spec.c_str(),
                    hex(&local, saLength(*reinterpret_cast<sockaddr*>(&local))).c_str(),
                    hex(&remote, saLength(*reinterpret_cast<sockaddr*>(&remote))).c_str(),
                    n > 0 ? hex(buf, n).c_str() : "");
        std::fflush(stdout);
        if (server >= 0) close(server);
        if (client >= 0) close(client);
        close(sock);
    }
    forwarder.close();
    return 0;
}

static int modeGive(const char* path, int argc, char** argv) {
    SocketSessionForwarder forwarder(path);
    forwarder.connectToReceiver();
    for (int i = 0; i < argc; i++) {
        const std::string spec = argv[i];
        const int family = spec[3] == '6' ? AF_INET6 : AF_INET;
        const size_t len = std::strtoul(spec.c_str() + 5, NULL, 10);
        std::string data(len, 'k');
        sockaddr_storage local, remote;
        int sock;
        boundSocket(family, SOCK_DGRAM, &local, &sock);
        makeAddr(family, &remote);
        try {
            forwarder.push(sock, family, SOCK_DGRAM, IPPROTO_UDP,
                           *reinterpret_cast<sockaddr*>(&local),
                           *reinterpret_cast<sockaddr*>(&remote), data.data(), data.size());
        } catch (const std::exception& ex) {
            std::printf("{\"spec\":\"%s\",\"error\":\"%s\"}\n", spec.c_str(), jsonEscape(ex.what()).c_str());
            std::fflush(stdout);
            close(sock);
            continue;
        }
        close(sock);
        const int port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&local)->sin_port
                                                 : reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
        std::printf("{\"spec\":\"%s\",\"port\":%d}\n", spec.c_str(), port);
        std::fflush(stdout);
    }
    forwarder.close();
    return 0;
}

static int modeBenchSend(const char* path, long count, size_t len) {
    SocketSessionForwarder forwarder(path);
    // The library does not expose its fd: it takes the lowest free number.
    const int probe = dup(0);
    close(probe);
    forwarder.connectToReceiver();
    const int forwarderFd = probe;
    int sock;
    sockaddr_storage local, remote;
    boundSocket(AF_INET, SOCK_DGRAM, &local, &sock);
    makeAddr(AF_INET, &remote);
    std::string data(len, 'x');
    long waits = 0;
    const double t0 = now();
    const double c0 = cpuSeconds();
    for (long i = 0; i < count; i++) {
        // BIND 10's push() is two writes and fails (corrupting the stream)
        // when the second one would block: wait until the socket is writable
        // (Linux: 3/4 of the send buffer free) before each push.
        pollfd p = {forwarderFd, POLLOUT, 0};
        if (poll(&p, 1, 0) == 0) {
            waits++;
            poll(&p, 1, -1);
        }
        try {
            forwarder.push(sock, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
                           *reinterpret_cast<sockaddr*>(&local),
                           *reinterpret_cast<sockaddr*>(&remote), data.data(), data.size());
        } catch (const std::exception& ex) {
            std::printf("{\"error\":\"%s\",\"at\":%ld}\n", jsonEscape(ex.what()).c_str(), i);
            return 1;
        }
    }
    std::printf("{\"n\":%ld,\"seconds\":%.6f,\"cpu\":%.6f,\"waits\":%ld}\n", count,
                now() - t0, cpuSeconds() - c0, waits);
    std::fflush(stdout);
    forwarder.close();
    return 0;
}

static int modeBenchRecv(const char* path, long count) {
    const int lfd = listenUnix(path);
    const int fd = accept(lfd, NULL, NULL);
    if (fd < 0) die("accept");
    SocketSessionReceiver receiver(fd);
    double t0 = 0;
    double c0 = 0;
    for (long i = 0; i < count; i++) {
        try {
            const SocketSession s = receiver.pop();
            if (i == 0) {
                t0 = now();
                c0 = cpuSeconds();
            }
            close(s.getSocket());
        } catch (const std::exception& ex) {
            std::printf("{\"error\":\"%s\",\"at\":%ld}\n", jsonEscape(ex.what()).c_str(), i);
            return 1;
        }
    }
    std::printf("{\"n\":%ld,\"seconds\":%.6f,\"cpu\":%.6f}\n", count, now() - t0,
                cpuSeconds() - c0);
    close(fd);
    close(lfd);
    unlink(path);
    return 0;
}

static int modeE2eWorker(const char* path) {
    const int lfd = listenUnix(path);
    const int fd = accept(lfd, NULL, NULL);
    if (fd < 0) die("accept");
    SocketSessionReceiver receiver(fd);
    long n = 0;
    while (true) {
        try {
            const SocketSession s = receiver.pop();
            const int sock = s.getSocket();
            const int flags = fcntl(sock, F_GETFL);
            fcntl(sock, F_SETFL, flags & ~O_NONBLOCK);
            static const char reply[] = "ok";
            send(sock, reply, sizeof(reply) - 1, MSG_NOSIGNAL);
            close(sock);
            n++;
        } catch (const std::exception& ex) {
            break;
        }
    }
    std::printf("{\"sessions\":%ld}\n", n);
    close(fd);
    close(lfd);
    unlink(path);
    return 0;
}

static int modeE2eFront(const char* path) {
    SocketSessionForwarder forwarder(path);
    const int probe = dup(0);
    close(probe);
    forwarder.connectToReceiver();
    const int forwarderFd = probe;
    sockaddr_storage local;
    int lfd;
    boundSocket(AF_INET, SOCK_STREAM, &local, &lfd);
    listen(lfd, 1024);
    std::printf("{\"port\":%d}\n", ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port));
    std::fflush(stdout);
    char buf[65535];
    while (true) {
        sockaddr_storage remote;
        socklen_t rl = sizeof(remote);
        const int c = accept(lfd, reinterpret_cast<sockaddr*>(&remote), &rl);
        if (c < 0) break;
        const ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n > 0) {
            pollfd p = {forwarderFd, POLLOUT, 0};
            poll(&p, 1, -1);
            try {
                forwarder.push(c, AF_INET, SOCK_STREAM, IPPROTO_TCP,
                               *reinterpret_cast<sockaddr*>(&local),
                               *reinterpret_cast<sockaddr*>(&remote), buf, n);
            } catch (const std::exception& ex) {
                std::printf("{\"error\":\"%s\"}\n", jsonEscape(ex.what()).c_str());
                return 1;
            }
        }
        close(c);
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s recv|send|bench-send|bench-recv PATH ...\n", argv[0]);
        return 64;
    }
    const std::string mode = argv[1];
    if (mode == "recv") return modeRecv(argv[2], argc > 3 ? std::atoi(argv[3]) : 1, false);
    if (mode == "recv-hold") return modeRecv(argv[2], 1, true);
    if (mode == "give") return modeGive(argv[2], argc - 3, argv + 3);
    if (mode == "send") return modeSend(argv[2], argc - 3, argv + 3);
    if (mode == "bench-send" && argc > 4) {
        return modeBenchSend(argv[2], std::atol(argv[3]), std::strtoul(argv[4], NULL, 10));
    }
    if (mode == "bench-recv" && argc > 3) return modeBenchRecv(argv[2], std::atol(argv[3]));
    if (mode == "e2e-worker") return modeE2eWorker(argv[2]);
    if (mode == "e2e-front") return modeE2eFront(argv[2]);
    std::fprintf(stderr, "bad arguments\n");
    return 64;
}
