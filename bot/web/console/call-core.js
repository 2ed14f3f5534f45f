/* The call machinery shared by the agent console and the customer widget (docs/calls.md):
 * the call record's state machine and the WebRTC plumbing, written once.
 *
 * An ES module for the console; tools/build_widget.mjs inlines it into widget.js (a classic
 * script) with its `export` keywords removed. So it imports nothing, declares only these
 * names, and touches no element of its own: callers pass their elements and callbacks.
 * The console offers (it creates the SDP offer), the customer's widget answers.
 */

/** The states of a call the server still runs (the console's own "starting" and the
 * widget's "requesting" come before the server knows of the call). */
export const CALL_LIVE = ['requested', 'inviting', 'connecting', 'active'];
/** A connection `disconnected` this long is given up (docs/calls.md 2.3). */
export const DROP_GRACE_MS = 10000;
/** Before the call rings through, a hang-up cancels it on the side that asked for it. */
export const HANG_UP_CANCELS = { agent: ['starting', 'inviting'], customer: ['requesting', 'requested'] };

// --- The state machine (pure) ------------------------------------------------------------

/** A new call record; ICE candidates that come before the remote description wait in `ice`. */
export const newCallRecord = (fields) => ({ ice: [], remoteSet: false, ...fields });

/** What a peer connection's state means: `connected`, `failed`, a drop to wait out (`grace`), or nothing. */
export const connectionVerdict = (connectionState, alreadyWaiting) => {
  if (connectionState === 'connected') return 'connected';
  if (connectionState === 'failed') return 'failed';
  if (connectionState === 'disconnected' && !alreadyWaiting) return 'grace';
  return 'none';
};

/** A remote ICE candidate: `add` it now, `keep` it until the remote description is set, or `drop` it. */
export const iceStep = (c, candidate) => {
  if (!c || !candidate || c.state === 'ended') return 'drop';
  return c.pc && c.remoteSet ? 'add' : 'keep';
};

/** The fields of an `active` signal: when it connected (never in the future) and the join
 * link, if `safeJoinUrl` accepts it (it returns the URL to use, or null). */
export const activeFields = (signal, now, safeJoinUrl) => {
  const at = Date.parse(signal.connected_at);
  const fields = { state: 'active', answering: false, connectedAt: Number.isNaN(at) ? now : Math.min(at, now) };
  const url = signal.join_url ? safeJoinUrl(signal.join_url) : null;
  if (url) fields.joinUrl = url;
  return fields;
};

/** The fields of a call ended here; `noticeReason` marks a local notice (a media error says more
 * than the server's `ended` that follows, so it is kept). */
export const endedFields = (reason, noticeReason) => ({
  state: 'ended', endReason: reason, localNotice: Boolean(noticeReason),
});

/** Whether the server's `ended` leaves the notice already shown (a local media error's). */
export const keepsLocalNotice = (c) => c.state === 'ended' && Boolean(c.localNotice);

/** The reason a hang-up by `side` ("agent" or "customer") ends the call with, here. */
export const hangUpReason = (side, stateBefore, reason) => {
  if (reason !== 'hung_up') return reason;
  if (HANG_UP_CANCELS[side].includes(stateBefore)) return 'cancelled';
  if (side === 'customer' && stateBefore === 'inviting') return 'declined';
  return reason;
};

/** What went wrong getting the camera, microphone or screen: `unsupported`,
 * `permission_denied`, `in_use` or `no_device`. */
export const mediaFailureKind = (err) => {
  const name = (err && err.name) || '';
  if (name === 'unsupported') return 'unsupported';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'permission_denied';
  if (name === 'NotReadableError' || name === 'AbortError') return 'in_use';
  return 'no_device';
};

/** The reason a media failure gives the server (it knows no `in_use`). */
export const mediaFailureReason = (err) => {
  const kind = mediaFailureKind(err);
  return kind === 'in_use' ? 'no_device' : kind;
};

// --- The WebRTC plumbing -----------------------------------------------------------------

/** Milliseconds since the epoch, as precise as the page's clock. */
export const epochNow = () => performance.timeOrigin + performance.now();

export const mediaSupported = (media) => Boolean(window.isSecureContext && navigator.mediaDevices
  && window.RTCPeerConnection
  && (media === 'screen' ? navigator.mediaDevices.getDisplayMedia : navigator.mediaDevices.getUserMedia));

/** Camera and microphone, or the screen. Call it in the click handler with no await before it. */
export const acquireMedia = async (media) => {
  if (!mediaSupported(media)) throw Object.assign(new Error('unsupported'), { name: 'unsupported' });
  const devices = navigator.mediaDevices;
  if (media === 'screen') return devices.getDisplayMedia({ video: true, audio: false });
  try {
    return await devices.getUserMedia({ audio: true, video: true });
  } catch (e) {
    if (e.name !== 'NotFoundError' && e.name !== 'OverconstrainedError') throw e;
    return devices.getUserMedia({ audio: true }); // no camera: talk and listen all the same
  }
};

/** Stop a call's media and close its peer connection; idempotent. */
export const closeCallMedia = (c) => {
  clearTimeout(c.dropTimer);
  if (c.pc) {
    const pc = c.pc;
    c.pc = null;
    pc.onicecandidate = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.close();
  }
  if (c.local) { c.local.getTracks().forEach((t) => t.stop()); c.local = null; }
};

/** The call's peer connection: local candidates go to `sendIce`, the remote stream to
 * `onStream`, state changes to `onConnectionState`. Throws what the constructor throws. */
export const openPeer = (c, rtc, { sendIce, onStream, onConnectionState }) => {
  const pc = new window.RTCPeerConnection(rtc || {}); // through the global, named at call time
  c.pc = pc;
  pc.onicecandidate = (e) => {
    if (e.candidate && c.pc === pc) sendIce(e.candidate.toJSON());
  };
  pc.ontrack = (e) => onStream(e.streams[0] || new MediaStream([e.track]));
  pc.onconnectionstatechange = () => onConnectionState();
  return pc;
};

/** Follow the connection: `onConnected` once, `onFailed` at a failure or after a drop's grace. */
export const watchConnection = (c, { onConnected, onFailed }) => {
  if (!c.pc) return;
  const verdict = connectionVerdict(c.pc.connectionState, Boolean(c.dropTimer));
  if (verdict === 'connected') {
    clearTimeout(c.dropTimer);
    c.dropTimer = null;
    if (!c.connectedSent) { c.connectedSent = true; onConnected(); }
  } else if (verdict === 'failed') {
    onFailed();
  } else if (verdict === 'grace') {
    c.dropTimer = setTimeout(onFailed, DROP_GRACE_MS);
  }
};

/** Microphone then camera: the answer reuses the offer's transceivers in that order. */
export const addLocalTracks = (pc, stream) => {
  [...stream.getAudioTracks(), ...stream.getVideoTracks()].forEach((t) => pc.addTrack(t, stream));
};

/** Set the other side's description, then add the candidates that came before it, in order. */
export const takeRemoteDescription = async (c, pc, type, sdp) => {
  await pc.setRemoteDescription({ type, sdp: String(sdp) });
  c.remoteSet = true;
  c.ice.splice(0).forEach((cand) => pc.addIceCandidate(cand).catch(() => {}));
};

/** A remote ICE candidate: added, kept for later, or dropped (see iceStep). */
export const takeRemoteIce = (c, candidate) => {
  const step = iceStep(c, candidate);
  if (step === 'add') c.pc.addIceCandidate(candidate).catch(() => {});
  else if (step === 'keep') c.ice.push(candidate);
};

/** The local description as the signal carries it. */
export const localDescriptionOf = (pc) => ({ type: pc.localDescription.type, sdp: pc.localDescription.sdp });

/** Show the other side's stream in `video`; `isCurrent()` says the call is still the one
 * on screen; `onMutedAutoplay` runs when the browser plays it only muted (offer the sound). */
export const showRemoteStream = (c, video, stream, { isCurrent, onMutedAutoplay }) => {
  c.remote = true;
  if (video.srcObject !== stream) video.srcObject = stream;
  video.hidden = false; // a hidden video presents no frames
  if (!c.frameWatch) {
    c.frameWatch = true;
    const mark = (t) => { if (isCurrent() && c.pc) video.dataset.firstFrameAt = String(t); };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback((now) => mark(performance.timeOrigin + now));
    else video.addEventListener('loadeddata', () => mark(epochNow()), { once: true });
  }
  video.play().catch(() => {
    // Autoplay with sound refused: play muted and offer the sound on a click.
    video.muted = true;
    video.play().catch(() => {});
    onMutedAutoplay();
  });
};
