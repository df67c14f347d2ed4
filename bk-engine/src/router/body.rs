//! Body wrappers that keep streaming (no buffering in either direction) while giving the
//! proxy two things: a request body that can be handed to a second instance when the
//! first could not be connected to, and a response body that counts the request in flight
//! until its last byte.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use super::balance::InFlight;

/// A request body parked until an attempt starts sending it.
pub(crate) type Parked = Arc<Mutex<Option<Body>>>;

/// The request body sent to an instance.
pub(crate) enum UpBody {
    /// No body: nothing to keep for a retry.
    Empty,
    /// The client's body. The attempt takes it out of `parked` only when the connection
    /// polls for the first frame; a connect failure happens before that, so the body is
    /// still parked for the next attempt.
    Parked {
        parked: Parked,
        taken: Option<Body>,
        hint: SizeHint,
    },
}

impl UpBody {
    /// An attempt's view of `parked`; `hint` is the client body's size hint.
    pub(crate) fn parked(parked: &Parked, hint: SizeHint) -> Self {
        Self::Parked {
            parked: Arc::clone(parked),
            taken: None,
            hint,
        }
    }
}

/// Whether the parked body is still untouched (so another attempt may send it).
pub(crate) fn still_parked(parked: &Parked) -> bool {
    parked
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_some()
}

impl http_body::Body for UpBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.get_mut() {
            Self::Empty => Poll::Ready(None),
            Self::Parked { parked, taken, .. } => {
                if taken.is_none() {
                    *taken = parked.lock().unwrap_or_else(PoisonError::into_inner).take();
                    if taken.is_none() {
                        return Poll::Ready(Some(Err(axum::Error::new(
                            "the request body was already sent to another instance",
                        ))));
                    }
                }
                match taken {
                    Some(b) => Pin::new(b).poll_frame(cx),
                    None => Poll::Ready(None),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Parked { taken, .. } => taken.as_ref().is_some_and(|b| b.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Empty => SizeHint::with_exact(0),
            Self::Parked { taken, hint, .. } => {
                taken.as_ref().map_or_else(|| *hint, |b| b.size_hint())
            }
        }
    }
}

/// An instance's response body; the request stays counted in flight until it ends.
pub(crate) struct Guarded<B> {
    inner: B,
    guard: Option<InFlight>,
}

impl<B> Guarded<B> {
    pub(crate) fn new(inner: B, guard: InFlight) -> Self {
        Self {
            inner,
            guard: Some(guard),
        }
    }
}

impl<B> http_body::Body for Guarded<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            // Counted out at the last byte, not when the server gets round to dropping us.
            this.guard = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
