import CLibCurl

/// One libcurl easy handle for one transfer (`curl_easy_cleanup` in `deinit`). Not `Sendable`:
/// it is made, run and dropped on one thread of the `Courier`'s pool.
final class CurlTransfer {
    private static let initialised: Bool = curl_global_init(haven_curl_global_default) == CURLE_OK

    private let handle: UnsafeMutableRawPointer
    private var lists: [UnsafeMutablePointer<curl_slist>] = []

    init() throws {
        guard CurlTransfer.initialised, let handle = curl_easy_init() else {
            throw DeliveryError(.failed, "libcurl could not be initialised")
        }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in lists { curl_slist_free_all(list) }
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(haven_curl_set_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options (since 7.17), so the pointer need not outlive the call.
        try check(value.withCString { haven_curl_set_string(handle, option, $0) }, option)
    }

    func set(_ option: CURLoption, bytes: UnsafeRawBufferPointer) throws {
        try check(haven_curl_set_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)), option)
        // CURLOPT_POSTFIELDS is not copied: the caller keeps `bytes` alive until `perform` ends.
        try check(haven_curl_set_pointer(handle, option, UnsafeMutableRawPointer(mutating: bytes.baseAddress)), option)
    }

    func set(_ option: CURLoption, list items: [String]) throws {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for item in items {
            guard let grown = curl_slist_append(list, item) else {
                if let list { curl_slist_free_all(list) }
                throw DeliveryError(.failed, "libcurl could not grow a list")
            }
            list = grown
        }
        guard let list else { return }
        lists.append(list)
        try check(haven_curl_set_list(handle, option, list), option)
    }

    func setWriter(_ callback: haven_curl_data_callback, context: UnsafeMutableRawPointer) throws {
        try check(haven_curl_set_callback(handle, CURLOPT_WRITEFUNCTION, callback), CURLOPT_WRITEFUNCTION)
        try check(haven_curl_set_pointer(handle, CURLOPT_WRITEDATA, context), CURLOPT_WRITEDATA)
    }

    /// What an upload (a mail's message) reads from: `callback` fills libcurl's buffer.
    func setReader(_ callback: haven_curl_data_callback, context: UnsafeMutableRawPointer) throws {
        try check(haven_curl_set_callback(handle, CURLOPT_READFUNCTION, callback), CURLOPT_READFUNCTION)
        try check(haven_curl_set_pointer(handle, CURLOPT_READDATA, context), CURLOPT_READDATA)
    }

    /// Runs the transfer; the `CURLcode` it ended with.
    func perform() -> CURLcode { curl_easy_perform(handle) }

    var responseCode: Int { haven_curl_response_code(handle) }

    static func message(_ code: CURLcode) -> String {
        curl_easy_strerror(code).map { String(cString: $0) } ?? "curl error"
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw DeliveryError(.invalidRequest, code: Int(code.rawValue), "option \(option.rawValue): \(CurlTransfer.message(code))")
        }
    }
}
