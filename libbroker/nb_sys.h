/*
 * The system account's requests, as nats-server 2.9.10 answers them (events.go): every server
 * answers $SYS.REQ.SERVER.PING (and .PING.STATSZ) with its statistics, .PING.VARZ and .PING.CONNZ
 * with its /varz and /connz, and $SYS.REQ.SERVER.<server id>.<STATSZ|VARZ|CONNZ> when it is the
 * one named. The subscriptions are internal ones in the system account, so only its users (and
 * peers' system accounts, across routes) can ask.
 */
#ifndef NB_SYS_H
#define NB_SYS_H

struct nb_server;

/* Subscribes the handlers. Returns 0 or NB_ENOMEM. */
int nb__sys_start(struct nb_server *srv);

#endif
