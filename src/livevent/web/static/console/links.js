// The links to hand out: listener pages with QR codes (printable), and the speak pages.
import { api } from "/static/console/api.js";
import { h, say } from "/static/console/dom.js";

function copyButton(url, what) {
  const button = h("button", { type: "button", class: "secondary no-print copy", "aria-label": `Copy ${what}` }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url);
      say(`Copied ${what}.`, "ok");
    } catch {
      say(`Select ${what} and copy it yourself: ${url}`, "info");
    }
  });
  return button;
}

export async function linksView(box, event) {
  const answer = await api(`/api/events/${event.id}/links`);
  if (!answer.ok) {
    box.append(h("p", {}, answer.detail));
    return;
  }
  const { everyone, listen, speak } = answer.data;
  const print = h("button", { type: "button", class: "secondary no-print" }, "Print the QR codes");
  print.addEventListener("click", () => {
    document.body.classList.add("printing-links");
    window.print();
    document.body.classList.remove("printing-links");
  });
  box.append(
    h("p", { class: "muted" }, event.public ? "Anyone with a link can listen." : "This event is private: listeners also need a token."),
    h(
      "ul",
      { class: "qr-codes" },
      [everyone, ...listen].map((link) =>
        h(
          "li",
          { class: link === everyone ? "everyone" : "" },
          h("img", { src: link.qr, alt: link === everyone ? "QR code for every language" : `QR code for the ${link.label} channel`, width: "148", height: "148" }),
          h("a", { href: link.url }, link === everyone ? "Listen: every language (each in their own)" : `Listen: ${link.label}`),
          h("small", { class: "url" }, link.url),
          copyButton(link.url, link === everyone ? "the link for every language" : `the ${link.label} link`),
        ),
      ),
    ),
    print,
    h("h4", { class: "no-print" }, "Speak pages"),
    h(
      "ul",
      { class: "no-print" },
      speak.map((link) => h("li", {}, h("a", { href: link.url }, `Speak: ${link.label}`), " ", h("small", { class: "url" }, link.url), " ", copyButton(link.url, `the ${link.label} speak link`))),
    ),
  );
}
