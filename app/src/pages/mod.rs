//! The pages of the site, one file per area; each page is a component that `App`'s
//! router mounts (lib.rs).
pub mod admin;
pub mod auth;
pub mod billing;
pub mod dashboard;
pub mod keys;
pub mod landing;
pub mod not_found;
pub mod playground;
pub mod usage;
