//! boh-web
