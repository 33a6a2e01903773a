// CMosquitto: libmosquitto for MQTTBridge, with small inline helpers. Imported by MQTTBridge only.
#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdbool.h>

/// Selects MQTT 3.1.1 (3) or 5 (5).
static inline int gw_mosq_set_protocol(struct mosquitto *mosq, int version) {
    return mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
}

/// Subscribes; with MQTT 5 the broker is asked not to send our own publications back (no-local).
static inline int gw_mosq_subscribe(struct mosquitto *mosq, const char *topic, int version) {
    if (version == 5) return mosquitto_subscribe_v5(mosq, NULL, topic, 0, MQTT_SUB_OPT_NO_LOCAL, NULL);
    return mosquitto_subscribe(mosq, NULL, topic, 0);
}

#endif
