//! boh-server
