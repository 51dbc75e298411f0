// SPDX-License-Identifier: Apache-2.0
#include "controlplane/privileges.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace bulwark::controlplane {

namespace {

struct target {
    uid_t uid;
    gid_t gid;
};

// The ids, resolved before chroot (the passwd and group files stay outside).
result<target> resolve(const process_settings& p)
{
    target t{geteuid(), getegid()};
    if (!p.user.empty()) {
        const passwd* pw = getpwnam(p.user.c_str());
        if (!pw)
            return fail(fmt::format("unknown user '{}'", p.user));
        t.uid = pw->pw_uid;
        t.gid = pw->pw_gid;
    }
    if (!p.group.empty()) {
        const group* gr = getgrnam(p.group.c_str());
        if (!gr)
            return fail(fmt::format("unknown group '{}'", p.group));
        t.gid = gr->gr_gid;
    }
    return t;
}

std::string errno_text() { return std::strerror(errno); }

} // namespace

result<std::string> drop_privileges(const process_settings& p)
{
    if (p.user.empty() && p.group.empty() && p.chroot.empty())
        return std::string();
    const std::string at = fmt::format("{}:{}", p.at.file, p.at.line);
    if (geteuid() != 0)
        return fail(fmt::format("{}: 'user', 'group' and 'chroot' need bulwarkd started as root", at));
    auto t = resolve(p);
    if (!t)
        return fail(fmt::format("{}: {}", at, t.message()));
    if (!p.chroot.empty() && (::chroot(p.chroot.c_str()) != 0 || ::chdir("/") != 0))
        return fail(fmt::format("{}: cannot chroot to '{}': {}", at, p.chroot, errno_text()));
    if (::setgroups(1, &t->gid) != 0 || ::setgid(t->gid) != 0)
        return fail(fmt::format("{}: cannot set group id {}: {}", at, t->gid, errno_text()));
    if (::setuid(t->uid) != 0)
        return fail(fmt::format("{}: cannot set user id {}: {}", at, t->uid, errno_text()));
    if (t->uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
        return fail(fmt::format("{}: root could be taken back after 'user': refusing to serve", at));
    std::string line = fmt::format("privileges dropped: uid {}{}, gid {}{}", t->uid,
                                   p.user.empty() ? "" : fmt::format(" ({})", p.user), t->gid,
                                   p.group.empty() ? "" : fmt::format(" ({})", p.group));
    if (!p.chroot.empty())
        line += fmt::format(", chrooted to {}", p.chroot);
    return line;
}

} // namespace bulwark::controlplane
