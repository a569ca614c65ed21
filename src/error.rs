//! How a command ends: an [`Outcome`] when it did its work, an [`Error`] saying why it
//! failed, and [`exit_code`], the contract's one table from either to the process exit code
//! (0 done, 1 errors in the files or apply refused or failed, 2 changes pending, 64 usage,
//! 69 a broker out of reach). Takes nothing of the crate; `commands` prints the error
//! ([`Error::report`]) and exits with its code.

/// A command that did its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `plan --detailed-exitcode`: the brokers differ from the files.
    ChangesPending,
}

/// Why a command failed. Each message is one `error:` line (or several) on stderr, already
/// free of terminal controls where it quotes the files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line does not parse; clap's message, with the usage.
    #[error(transparent)]
    CommandLine(#[from] clap::Error),
    /// A usage or configuration error: a flag, URL, path or file that does not hold.
    #[error("{0}")]
    Usage(String),
    /// A broker, or its management API, cannot be reached or read, or was lost.
    #[error("{0}")]
    Unavailable(String),
    /// The files have errors: their diagnostics, already printed, say which.
    #[error("the topology has errors")]
    Invalid,
    /// `apply` refused before changing anything (a conflict it may not resolve, a stale
    /// saved plan, a topology with errors).
    #[error("{0}")]
    Refused(String),
    /// An `apply` step failed; the message says what was left where.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    pub fn usage(why: impl std::fmt::Display) -> Error {
        Error::Usage(why.to_string())
    }

    pub fn unavailable(why: impl std::fmt::Display) -> Error {
        Error::Unavailable(why.to_string())
    }

    /// What stderr says of it: clap's rendering, nothing for errors that the diagnostics
    /// already showed, else `error: ` and the message.
    pub fn report(&self) -> Option<String> {
        match self {
            Error::CommandLine(e) => Some(e.render().to_string()),
            Error::Invalid => None,
            _ => Some(format!("error: {self}\n")),
        }
    }
}

/// The process exit code of a command's result: the contract's table, the only place that
/// writes these numbers.
pub fn exit_code(result: &Result<Outcome, Error>) -> i32 {
    match result {
        Ok(Outcome::Done) => 0,
        Err(Error::Invalid | Error::Refused(_) | Error::Failed(_)) => 1,
        Ok(Outcome::ChangesPending) => 2,
        Err(Error::CommandLine(_) | Error::Usage(_)) => 64,
        Err(Error::Unavailable(_)) => 69,
    }
}
