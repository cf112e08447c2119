// Passkeys (WebAuthn): sign in with one (as the second step, or without a
// password) and add one in My account. The server's options and the
// browser's answers travel as JSON, binary values as base64url. Without
// WebAuthn (or without JavaScript) the passkey buttons stay hidden and the
// pages work with codes.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRF-Token": token},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error((data.error && data.error.message) || response.statusText);
        }
        return data;
      });
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function created(credential) {
    var response = credential.response;
    return {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : []
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  function asserted(credential) {
    var response = credential.response;
    var answer = {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature)
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
    if (response.userHandle) { answer.response.userHandle = toText(response.userHandle); }
    return answer;
  }

  function signIn(box, token) {
    return post(box.dataset.optionsUrl, token).then(function (options) {
      return navigator.credentials.get({publicKey: requestOptions(options)});
    }).then(function (credential) {
      return post(box.dataset.verifyUrl, token, asserted(credential));
    });
  }

  function register(box, token) {
    return post(box.dataset.optionsUrl, token).then(function (options) {
      return navigator.credentials.create({publicKey: creationOptions(options)});
    }).then(function (credential) {
      var name = box.querySelector("#passkey-name");
      return post(box.dataset.verifyUrl, token,
                  {name: name ? name.value : "", credential: created(credential)});
    });
  }

  function wire(box, ceremony) {
    var button = box.querySelector("[data-passkey-button]");
    var error = box.querySelector("[data-passkey-error]");
    var token = box.querySelector("input[name=csrf_token]").value;
    box.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      error.hidden = true;
      ceremony(box, token).then(function (data) {
        window.location.assign(data.next);
      }).catch(function (problem) {
        error.textContent = problem.message;
        error.hidden = false;
        button.disabled = false;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    document.querySelectorAll("[data-passkey-sign-in]").forEach(function (box) {
      wire(box, signIn);
    });
    document.querySelectorAll("[data-passkey-register]").forEach(function (box) {
      wire(box, register);
    });
  });
})();
