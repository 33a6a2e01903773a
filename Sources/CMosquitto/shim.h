// CMosquitto: libmosquitto for MQTTBridge, with small inline helpers. Imported by MQTTBridge only.
#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdbool.h>
#include <stdint.h>

/// Selects MQTT 3.1.1 (3) or 5 (5).
static inline int gw_mosq_set_protocol(struct mosquitto *mosq, int version) {
    return mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
}

/// Subscribes; with MQTT 5 the broker is asked not to send our own publications back (no-local).
static inline int gw_mosq_subscribe(struct mosquitto *mosq, const char *topic, int version) {
    if (version == 5) return mosquitto_subscribe_v5(mosq, NULL, topic, 0, MQTT_SUB_OPT_NO_LOCAL, NULL);
    return mosquitto_subscribe(mosq, NULL, topic, 0);
}

/// Connects in the background. With MQTT 5 the CONNECT announces a Maximum Packet Size of `max_packet` bytes, so
/// the broker never hands us a larger message; libmosquitto keeps the properties for its reconnects.
/// `after_refusal`: a 3.1.1 reconnect after the broker refused MQTT 5; the stored MQTT 5 properties must go (a
/// 3.1.1 CONNECT with them is refused by libmosquitto itself), which only the blocking connect does.
static inline int gw_mosq_connect(struct mosquitto *mosq, const char *host, int port, int keepalive, int version,
                                  uint32_t max_packet, bool after_refusal) {
    if (version != 5 && after_refusal) return mosquitto_connect_bind_v5(mosq, host, port, keepalive, NULL, NULL);
    if (version != 5) return mosquitto_connect_async(mosq, host, port, keepalive);
    mosquitto_property *properties = NULL;
    int rc = mosquitto_property_add_int32(&properties, MQTT_PROP_MAXIMUM_PACKET_SIZE, max_packet);
    if (rc != MOSQ_ERR_SUCCESS) return rc;
    rc = mosquitto_connect_bind_v5(mosq, host, port, keepalive, NULL, properties);
    mosquitto_property_free_all(&properties);
    return rc;
}

/// Whether a CONNACK code means "this broker does not speak that protocol version" (3.1.1's 1, MQTT 5's 0x84).
static inline bool gw_mosq_refused_version(int code) {
    return code == CONNACK_REFUSED_PROTOCOL_VERSION || code == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION;
}

#endif
