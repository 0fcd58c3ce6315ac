/* channels_conf.h - configuration of the channels that reach people (issue 16):
 * e-mail, Telegram, Zalo and SMS outputs, the recipients and the routes
 * that decide who hears of which alarm.  Part of the effective configuration
 * (config.h), beside alerts_conf.h.  Secrets are read from their files at
 * load and never printed. */
#ifndef CC_CHANNELS_CONF_H
#define CC_CHANNELS_CONF_H

#include <stddef.h>
#include <stdint.h>

/* What every channel output shares. */
struct cc_channel_common {
	char *name;            /* unique among all outputs */
	int rate_per_min;      /* messages a minute at most (the channel's own limit: Telegram ~20/min to a group, an SMS modem ~6/min) */
	int64_t timeout_ms;
	int64_t backoff_max_ms;
	int start_oldest;
	int line;
};

/* outputs.email: SMTP through libcurl. */
struct cc_email_conf {
	struct cc_channel_common c;
	char *url;             /* smtp://host:587 (STARTTLS required; plain only to a loopback relay with insecure), smtps://host:465 */
	char *from;            /* "coldchaind <alarms@example.vn>" */
	char *user;
	char *password_file;
	char *password;        /* from password_file; never printed */
	char *ca_file;
	int insecure;
};

/* outputs.telegram: the Bot API. */
struct cc_telegram_conf {
	struct cc_channel_common c;
	char *api_url;         /* default "https://api.telegram.org" */
	char *token_file;
	char *token;           /* never printed */
	int replies;           /* poll getUpdates for "OK <id>" replies (default true) */
	char *ca_file;
	int insecure;
};

/* outputs.zalo: the Official Account API. */
struct cc_zalo_conf {
	struct cc_channel_common c;
	char *api_url;         /* default "https://openapi.zalo.me" */
	char *oauth_url;       /* default "https://oauth.zaloapp.com" */
	char *app_id;
	char *secret_key_file;
	char *secret_key;      /* never printed */
	char *refresh_token_file; /* the first refresh token; later ones are kept in state_dir */
	char *refresh_token;
	char *ca_file;
	int insecure;
};

/* outputs.sms: a GSM modem on a serial port; one per modem, shared by all routes. */
struct cc_sms_conf {
	struct cc_channel_common c;
	char *device;          /* /dev/ttyUSB2, /dev/serial/by-id/... */
	int baud;              /* default 115200 */
	char *pin_file;        /* optional SIM PIN */
	char *pin;
	int replies;           /* read incoming SMS for "OK <id>" (default true) */
	int max_parts;         /* a long message is cut after this many parts (default 3) */
};

/* recipients: people, with their addresses on each channel kind. */
struct cc_recipient_conf {
	char *name;            /* also the "user" of an ack by reply */
	char *lang;            /* "vi" (default) or "en" */
	char *email, *telegram, *zalo, *phone; /* NULL: not reachable that way; phone in E.164 (+84...) */
	int quiet_start_min, quiet_end_min; /* minutes after local midnight; -1: no quiet hours */
	char *quiet_hours;     /* as written ("21:00-06:00"), for -p; NULL: none */
	int line;
};

/* routes: which alarms go to whom, by which channels. */
struct cc_route_conf {
	char *name;
	int min_severity;      /* enum cc_severity */
	char **rooms;          /* NULL: every room (and lines) */
	size_t nrooms;
	char **kinds;          /* alarm rules ("temp_high", "door", "exposure_stel", ...): NULL = all */
	size_t nkinds;
	char **to;             /* recipient names: all of them at the raise */
	size_t nto;
	char **chain;          /* escalation: chain[k] also hears of the alarm at its k-th re-notification/escalation while unacknowledged */
	size_t nchain;
	char **via;            /* channel output names, in order of preference; all of them are used */
	size_t nvia;
	int digest;            /* non-critical events to these recipients in one daily message at digest_at */
	int digest_at_min;
	char *digest_at;       /* as written ("07:30"), for -p */
	int line;
};

/* The form of a secret a transport puts on the wire, checked when the
 * configuration is read (so `coldchaind -n` refuses it, naming the file)
 * and again by the transport: a Telegram bot token goes into the URL's path
 * (digits, letters, ':', '_' and '-' only); a Zalo secret key or token into
 * a header line (printable ASCII, no space, 1 to CC_ZALO_TOKEN_MAX - 1
 * bytes).  1 when s has it. */
#define CC_ZALO_TOKEN_MAX 2048
int config_telegram_token_ok(const char *s);
int config_zalo_token_ok(const char *s);

#endif
