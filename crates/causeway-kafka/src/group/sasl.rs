//! The client side of SASL/SCRAM (RFC 5802, RFC 7677) as Kafka's `ScramSaslClient` runs it: no channel
//! binding (`n,,`), usernames escaped per RFC 5802, at least 4096 iterations, the server signature checked.

use bytes::Bytes;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::config::{SaslCredentials, SaslMechanism};
use super::error::{BrokerErrorCode, GroupError};

/// `ScramMechanism.minIterations()` in the Java client.
const MIN_ITERATIONS: u32 = 4096;
/// `SASL_AUTHENTICATION_FAILED`, used for exchanges the client itself rejects.
const AUTHENTICATION_FAILED: BrokerErrorCode = BrokerErrorCode(58);

/// One SCRAM exchange in progress.
pub(crate) struct ScramClient {
    mechanism: &'static str,
    digest: MessageDigest,
    password: String,
    nonce: String,
    client_first_bare: String,
}

impl ScramClient {
    pub(crate) fn new(credentials: &SaslCredentials) -> Result<Self, GroupError> {
        let mechanism = credentials.mechanism.name();
        let digest = match credentials.mechanism {
            SaslMechanism::ScramSha256 => MessageDigest::sha256(),
            SaslMechanism::ScramSha512 => MessageDigest::sha512(),
            SaslMechanism::Plain => {
                return Err(GroupError::Config(
                    "PLAIN is not a SCRAM mechanism".to_owned(),
                ));
            }
        };
        let mut random = [0u8; 24];
        openssl::rand::rand_bytes(&mut random).map_err(|e| failed(mechanism, e.to_string()))?;
        // Base64 is printable and has no ',' so it is a valid SCRAM nonce.
        let nonce = openssl::base64::encode_block(&random);
        let client_first_bare = format!("n={},r={nonce}", escape_username(&credentials.username));
        Ok(Self {
            mechanism,
            digest,
            password: credentials.password.clone(),
            nonce,
            client_first_bare,
        })
    }

    /// `n,,n=<user>,r=<nonce>`.
    pub(crate) fn client_first(&self) -> Bytes {
        Bytes::from(format!("n,,{}", self.client_first_bare))
    }

    /// Answers the server-first message; returns the client-final message and the server signature the
    /// server-final message must carry.
    pub(crate) fn client_final(&self, server_first: &[u8]) -> Result<(Bytes, Vec<u8>), GroupError> {
        let mechanism = self.mechanism;
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| failed(mechanism, "server-first message is not UTF-8".to_owned()))?;
        let attribute = |name: char| {
            server_first
                .split(',')
                .find_map(|part| {
                    part.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('='))
                })
                .ok_or_else(|| {
                    failed(
                        mechanism,
                        format!("server-first message lacks '{name}': {server_first}"),
                    )
                })
        };
        let nonce = attribute('r')?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(failed(
                mechanism,
                "Invalid server nonce: does not start with client nonce".to_owned(),
            ));
        }
        let salt = openssl::base64::decode_block(attribute('s')?)
            .map_err(|_| failed(mechanism, "server salt is not base64".to_owned()))?;
        let iterations: u32 = attribute('i')?.parse().map_err(|_| {
            failed(
                mechanism,
                "server iteration count is not a number".to_owned(),
            )
        })?;
        if iterations < MIN_ITERATIONS {
            return Err(failed(
                mechanism,
                format!(
                    "Requested iterations {iterations} is less than the minimum {MIN_ITERATIONS} for {mechanism}"
                ),
            ));
        }
        let crypto = |e: openssl::error::ErrorStack| failed(mechanism, e.to_string());
        let mut salted_password = vec![0u8; self.digest.size()];
        openssl::pkcs5::pbkdf2_hmac(
            self.password.as_bytes(),
            &salt,
            iterations as usize,
            self.digest,
            &mut salted_password,
        )
        .map_err(crypto)?;
        let client_key = self.hmac(&salted_password, b"Client Key").map_err(crypto)?;
        let stored_key = hash(self.digest, &client_key).map_err(crypto)?;
        // "biws" is base64 of the GS2 header "n,,".
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let client_signature = self
            .hmac(&stored_key, auth_message.as_bytes())
            .map_err(crypto)?;
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = self.hmac(&salted_password, b"Server Key").map_err(crypto)?;
        let server_signature = self
            .hmac(&server_key, auth_message.as_bytes())
            .map_err(crypto)?;
        let client_final = format!(
            "{without_proof},p={}",
            openssl::base64::encode_block(&proof)
        );
        Ok((Bytes::from(client_final), server_signature))
    }

    /// Checks `v=<server signature>`; `e=<error>` is the server refusing.
    pub(crate) fn verify_server_final(
        mechanism: &'static str,
        server_final: &[u8],
        expected_signature: &[u8],
    ) -> Result<(), GroupError> {
        let text = std::str::from_utf8(server_final)
            .map_err(|_| failed(mechanism, "server-final message is not UTF-8".to_owned()))?;
        if let Some(error) = text.strip_prefix("e=") {
            return Err(failed(
                mechanism,
                format!("Sasl authentication using {mechanism} failed with error: {error}"),
            ));
        }
        let signature = text
            .split(',')
            .find_map(|part| part.strip_prefix("v="))
            .and_then(|v| openssl::base64::decode_block(v).ok())
            .ok_or_else(|| failed(mechanism, format!("invalid server-final message: {text}")))?;
        if signature != expected_signature {
            return Err(failed(
                mechanism,
                "Invalid server signature in server final message".to_owned(),
            ));
        }
        Ok(())
    }

    fn hmac(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let key = PKey::hmac(key)?;
        let mut signer = Signer::new(self.digest, &key)?;
        signer.update(data)?;
        signer.sign_to_vec()
    }
}

fn failed(mechanism: &'static str, message: String) -> GroupError {
    GroupError::Authentication {
        mechanism,
        code: AUTHENTICATION_FAILED,
        message: Some(message),
    }
}

/// RFC 5802 `saslname`: `=` and `,` are escaped as `=3D` and `=2C`.
fn escape_username(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SCRAM-SHA-256 example of RFC 7677 §3, with the client nonce fixed.
    #[test]
    fn rfc7677_example_exchange() {
        let client = ScramClient {
            mechanism: "SCRAM-SHA-256",
            digest: MessageDigest::sha256(),
            password: "pencil".to_owned(),
            nonce: "rOprNGfwEbeRWgbNEkqO".to_owned(),
            client_first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".to_owned(),
        };
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let (client_final, expected) = client.client_final(server_first.as_bytes()).unwrap();
        assert_eq!(
            &client_final[..],
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        ScramClient::verify_server_final(
            "SCRAM-SHA-256",
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
            &expected,
        )
        .unwrap();
        assert!(ScramClient::verify_server_final("SCRAM-SHA-256", b"v=AAAA", &expected).is_err());
    }

    #[test]
    fn usernames_are_escaped() {
        assert_eq!(escape_username("a=b,c"), "a=3Db=2Cc");
    }
}
